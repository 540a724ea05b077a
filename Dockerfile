# Home Inventory as a container image: the static (musl) release binary, with the web app
# built into it, on an empty base. Nothing else is in the image: no shell, no package
# manager, no CA bundle (outgoing TLS uses the root certificates compiled into the binary).
#
# The binaries are built first, by the release workflow (.github/workflows/release.yml), and
# put in the build context as dist/linux-<arch>/home-inventory-backend; each platform takes
# its own:
#
#   docker buildx build --platform linux/amd64,linux/arm64 -t home-inventory .
#
# By hand, for this machine's platform (x86_64 here; the C compiler from musl-tools):
#
#   CC_x86_64_unknown_linux_musl=musl-gcc cargo xtask dist --target x86_64-unknown-linux-musl
#   mkdir -p dist/linux-amd64
#   cp target/dist/home-inventory-backend dist/linux-amd64/
#   docker build -t home-inventory .
#
# deploy/docker-compose.yml shows how to run it.
FROM scratch

ARG TARGETARCH

LABEL org.opencontainers.image.title="Home Inventory" \
      org.opencontainers.image.description="A household inventory: what you own, where it is, its receipts and warranties" \
      org.opencontainers.image.licenses="AGPL-3.0-or-later" \
      org.opencontainers.image.source="https://github.com/home-inventory/home-inventory"

# scratch has no mkdir: the data volume and the temporary folder (exports, imports and
# reports are written there first) come from empty folders, owned by the server's user.
COPY --chown=65532:65532 deploy/image/data/ /data/
COPY --chown=65532:65532 deploy/image/tmp/ /tmp/
COPY --chmod=0755 dist/linux-${TARGETARCH}/home-inventory-backend /usr/local/bin/home-inventory-backend

# Listen on every interface of the container; the database and attachments live in /data.
ENV BIND=0.0.0.0:8080 \
    DATA_DIR=/data

USER 65532:65532
VOLUME ["/data"]
EXPOSE 8080

# The binary asks itself: GET /api/health on BIND, exit 0 on a 2xx answer.
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/home-inventory-backend", "health"]

ENTRYPOINT ["/usr/local/bin/home-inventory-backend"]
CMD ["serve"]
