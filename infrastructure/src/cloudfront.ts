// CloudFront, Route 53 and ACM: the public face of the site.
//
//   https://<domain>/        -> CloudFront -> private frontend bucket (origin access control)
//   https://<domain>/api/*   -> CloudFront -> https://api.<domain>
//   api.<domain>             -> Route 53 latency records, one per region, each guarded by a
//                               health check of that region's /api/health
//
// CloudFront sends /api/* requests on with every viewer header but Host (the managed
// AllViewerExceptHostHeader policy, so API Gateway sees Host: api.<domain>; with caching
// disabled it includes Authorization, which API tokens travel in), plus two
// headers of its own: x-viewer-address, which a viewer-request CloudFront Function sets to
// the viewer's IP address (for the API's per-address limits), and X-Origin-Verify, a
// secret the API checks, so that API Gateway cannot be called directly with a made-up
// address.
//
// Failover is done by DNS, below CloudFront: when a region's health check fails, Route 53
// stops answering with that region, and CloudFront's connections to api.<domain> go to the
// other region. Every method fails over this way, writes included; a CloudFront origin
// group would only retry GET, HEAD and OPTIONS.

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { RegionalApi } from "./lambda";
import {
    AppConfig,
    MANAGED_POLICY,
    ORIGIN_VERIFY_HEADER,
    PROJECT,
    RegionContext,
    RegionKey,
    regionalName,
    VIEWER_ADDRESS_HEADER,
} from "./types";

export const FRONTEND_ORIGIN_ID = "frontend-s3";
export const API_ORIGIN_ID = "api";
export const API_PATH_PATTERN = "/api/*";
export const HEALTH_CHECK_PATH = "/api/health";

/**
 * Viewer-request function of the default (SPA) behaviour. A path whose last segment has
 * no file extension is a client-side route of the single-page app, so it is served
 * /index.html; files (/app-1a2b.js, /manifest.json, /sw.js, ...) are served as they are.
 *
 * This is done here, and not with distribution-wide custom error responses, because
 * those would also rewrite the API's own 403 and 404 answers (behind /api/*) into
 * "200 index.html".
 */
export const SPA_ROUTING_FUNCTION_CODE = `function handler(event) {
    var request = event.request;
    var uri = request.uri;
    var last = uri.substring(uri.lastIndexOf('/') + 1);
    if (last.indexOf('.') === -1) {
        request.uri = '/index.html';
    }
    return request;
}
`;

/**
 * Viewer-request function of the /api/* behaviour: the viewer's IP address (bare, IPv4 or
 * IPv6, as CloudFront saw the connection) in the x-viewer-address request header. It
 * replaces whatever the viewer sent under that name, several values included, so the
 * header the API reads always comes from CloudFront. The origin request policy forwards
 * it like any viewer header.
 *
 * CloudFront Functions may not add CloudFront-* headers, hence the custom name.
 */
export const VIEWER_ADDRESS_FUNCTION_CODE = `function handler(event) {
    var request = event.request;
    request.headers['${VIEWER_ADDRESS_HEADER}'] = { value: event.viewer.ip };
    return request;
}
`;

export interface ValidatedCertificate {
    certificate: aws.acm.Certificate;
    /** ARN of the certificate, available once DNS validation has completed. */
    arn: pulumi.Output<string>;
}

/** An ACM certificate validated by DNS records in the site's hosted zone. */
function validatedCertificate(args: {
    name: string;
    domainName: string;
    alternativeNames: string[];
    zoneId: pulumi.Input<string>;
    certProvider: aws.Provider;
    dnsProvider: aws.Provider;
}): ValidatedCertificate {
    const certificate = new aws.acm.Certificate(
        args.name,
        {
            domainName: args.domainName,
            subjectAlternativeNames: args.alternativeNames,
            validationMethod: "DNS",
            keyAlgorithm: "RSA_2048",
        },
        { provider: args.certProvider },
    );
    const records = [args.domainName, ...args.alternativeNames].map((name, i) => {
        const option = certificate.domainValidationOptions.apply((options) => {
            const found = options.find((o) => o.domainName === name);
            if (!found) {
                throw new Error(`no DNS validation option for ${name}`);
            }
            return found;
        });
        return new aws.route53.Record(
            `${args.name}-validation-${i}`,
            {
                zoneId: args.zoneId,
                name: option.resourceRecordName,
                type: option.resourceRecordType,
                records: [option.resourceRecordValue],
                ttl: 300,
                // ACM asks for the same record for the same name in every region.
                allowOverwrite: true,
            },
            { provider: args.dnsProvider },
        );
    });
    const validation = new aws.acm.CertificateValidation(
        args.name,
        {
            certificateArn: certificate.arn,
            validationRecordFqdns: records.map((r) => r.fqdn),
        },
        { provider: args.certProvider },
    );
    return { certificate, arn: validation.certificateArn };
}

export interface Certificates {
    /** us-east-1: <domain> and api.<domain>; used by CloudFront and by the us-east-1 API domain. */
    site: ValidatedCertificate;
    /** Certificate each region's API custom domain uses. */
    api: Record<RegionKey, ValidatedCertificate>;
}

export function createCertificates(args: {
    config: AppConfig;
    regions: Record<RegionKey, RegionContext>;
    zoneId: pulumi.Input<string>;
}): Certificates {
    const { config, regions, zoneId } = args;
    const dnsProvider = regions.east.provider;
    // CloudFront only takes certificates from us-east-1.
    const site = validatedCertificate({
        name: `${PROJECT}-site-cert`,
        domainName: config.domainName,
        alternativeNames: [config.apiDomainName],
        zoneId,
        certProvider: regions.east.provider,
        dnsProvider,
    });
    const west = validatedCertificate({
        name: regionalName("api-cert", regions.west),
        domainName: config.apiDomainName,
        alternativeNames: [],
        zoneId,
        certProvider: regions.west.provider,
        dnsProvider,
    });
    return { site, api: { east: site, west } };
}

export interface ApiDns {
    healthChecks: Record<RegionKey, aws.route53.HealthCheck>;
    records: Record<RegionKey, aws.route53.Record>;
}

/** api.<domain>: one latency record per region, each withdrawn while its region is unhealthy. */
export function createApiDns(args: {
    config: AppConfig;
    regions: Record<RegionKey, RegionContext>;
    apis: Record<RegionKey, RegionalApi>;
    zoneId: pulumi.Input<string>;
}): ApiDns {
    const { config, regions, apis, zoneId } = args;
    const provider = regions.east.provider; // Route 53 is global
    const healthChecks = {} as Record<RegionKey, aws.route53.HealthCheck>;
    const records = {} as Record<RegionKey, aws.route53.Record>;
    for (const ctx of [regions.east, regions.west]) {
        const api = apis[ctx.key];
        // Probes the regional endpoint directly, not api.<domain> (which resolves to
        // whichever region is nearest the checker).
        healthChecks[ctx.key] = new aws.route53.HealthCheck(
            regionalName("api-health", ctx),
            {
                type: "HTTPS",
                fqdn: api.endpointHost,
                port: 443,
                resourcePath: HEALTH_CHECK_PATH,
                enableSni: true,
                requestInterval: 30,
                failureThreshold: 3,
                tags: { Name: regionalName("api-health", ctx) },
            },
            { provider },
        );
        records[ctx.key] = new aws.route53.Record(
            regionalName("api-latency", ctx),
            {
                zoneId,
                name: config.apiDomainName,
                type: "A",
                setIdentifier: ctx.region,
                latencyRoutingPolicies: [{ region: ctx.region }],
                healthCheckId: healthChecks[ctx.key].id,
                aliases: [
                    {
                        name: api.domainName.domainNameConfiguration.apply((c) => c.targetDomainName!),
                        zoneId: api.domainName.domainNameConfiguration.apply((c) => c.hostedZoneId!),
                        evaluateTargetHealth: true,
                    },
                ],
            },
            { provider },
        );
    }
    return { healthChecks, records };
}

/**
 * The web app's Content-Security-Policy, the same as the self-hosted server sends
 * (`api/src/security_headers.rs`): only the site's own scripts (the boot script is a file,
 * not inline) and the WebAssembly they start, only its own style sheet, images from the
 * site, `data:` and `blob:` and the photo buckets (the API hands out presigned S3 addresses
 * for photos and uploads), never framed.
 */
export function contentSecurityPolicy(photoOrigins: string[]): string {
    const buckets = photoOrigins.map((o) => ` ${o}`).join("");
    return [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        `img-src 'self' data: blob:${buckets}`,
        "media-src 'self' blob:",
        `connect-src 'self'${buckets}`,
        "worker-src 'self'",
        "manifest-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ].join("; ");
}

/** The camera for capture and scanning; nothing else a page could ask for. */
export const PERMISSIONS_POLICY =
    "camera=(self), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), browsing-topics=()";
/** Two years, as the API sends it behind https. */
export const HSTS_MAX_AGE_SECONDS = 63072000;

/**
 * The security headers of every answer. The site's pages (from S3) get them all, replacing
 * anything the bucket might say. The API sets its own (a stricter policy for data, the docs
 * page's own); for /api/* CloudFront only fills in what an answer lacks, such as an error
 * made by CloudFront or API Gateway themselves.
 */
export function securityHeadersPolicy(
    name: string,
    photoOrigins: pulumi.Input<string>[],
    override: boolean,
    opts: pulumi.CustomResourceOptions,
): aws.cloudfront.ResponseHeadersPolicy {
    return new aws.cloudfront.ResponseHeadersPolicy(
        name,
        {
            name,
            comment: override ? "Home Inventory: the web app's security headers" : "Home Inventory: security headers the API's answers lack",
            securityHeadersConfig: {
                contentSecurityPolicy: {
                    contentSecurityPolicy: override
                        ? pulumi.all(photoOrigins).apply((origins) => contentSecurityPolicy(origins))
                        : "default-src 'none'; frame-ancestors 'none'; sandbox",
                    override,
                },
                contentTypeOptions: { override: true },
                frameOptions: { frameOption: "DENY", override },
                referrerPolicy: { referrerPolicy: "no-referrer", override },
                strictTransportSecurity: {
                    accessControlMaxAgeSec: HSTS_MAX_AGE_SECONDS,
                    includeSubdomains: true,
                    override,
                },
            },
            customHeadersConfig: {
                items: [
                    { header: "Permissions-Policy", value: PERMISSIONS_POLICY, override },
                    { header: "Cross-Origin-Opener-Policy", value: "same-origin", override },
                ],
            },
        },
        opts,
    );
}

export interface Cdn {
    distribution: aws.cloudfront.Distribution;
    siteHeaders: aws.cloudfront.ResponseHeadersPolicy;
    apiHeaders: aws.cloudfront.ResponseHeadersPolicy;
    originAccessControl: aws.cloudfront.OriginAccessControl;
    spaRouting: aws.cloudfront.Function;
    apiViewerAddress: aws.cloudfront.Function;
}

export function createCdn(args: {
    config: AppConfig;
    provider: aws.Provider;
    frontendBucket: aws.s3.Bucket;
    certificateArn: pulumi.Input<string>;
    zoneId: pulumi.Input<string>;
    /** The API's DNS must exist before CloudFront sends traffic to api.<domain>. */
    apiDns: ApiDns;
    /** The photo buckets' regional domain names, where presigned photo addresses lead. */
    photoBucketDomains: pulumi.Input<string>[];
}): Cdn {
    const { config, provider } = args;
    const opts = { provider };
    const photoOrigins = args.photoBucketDomains.map((d) => pulumi.interpolate`https://${d}`);
    const siteHeaders = securityHeadersPolicy(`${PROJECT}-site-headers`, photoOrigins, true, opts);
    const apiHeaders = securityHeadersPolicy(`${PROJECT}-api-headers`, photoOrigins, false, opts);

    const originAccessControl = new aws.cloudfront.OriginAccessControl(
        `${PROJECT}-frontend-oac`,
        {
            name: `${PROJECT}-frontend`,
            description: "CloudFront reads the private frontend bucket with SigV4",
            originAccessControlOriginType: "s3",
            signingBehavior: "always",
            signingProtocol: "sigv4",
        },
        opts,
    );

    const spaRouting = new aws.cloudfront.Function(
        `${PROJECT}-spa-routing`,
        {
            name: `${PROJECT}-spa-routing`,
            runtime: "cloudfront-js-2.0",
            comment: "Serve /index.html for client-side routes",
            publish: true,
            code: SPA_ROUTING_FUNCTION_CODE,
        },
        opts,
    );

    const apiViewerAddress = new aws.cloudfront.Function(
        `${PROJECT}-api-viewer-address`,
        {
            name: `${PROJECT}-api-viewer-address`,
            runtime: "cloudfront-js-2.0",
            comment: `Set ${VIEWER_ADDRESS_HEADER} to the viewer's IP address`,
            publish: true,
            code: VIEWER_ADDRESS_FUNCTION_CODE,
        },
        opts,
    );

    const distribution = new aws.cloudfront.Distribution(
        `${PROJECT}-cdn`,
        {
            enabled: true,
            comment: "Home Inventory",
            aliases: [config.domainName],
            defaultRootObject: "index.html",
            httpVersion: "http2and3",
            isIpv6Enabled: true,
            priceClass: "PriceClass_100",
            origins: [
                {
                    originId: FRONTEND_ORIGIN_ID,
                    domainName: args.frontendBucket.bucketRegionalDomainName,
                    originAccessControlId: originAccessControl.id,
                },
                {
                    originId: API_ORIGIN_ID,
                    domainName: config.apiDomainName,
                    customOriginConfig: {
                        httpPort: 80,
                        httpsPort: 443,
                        originProtocolPolicy: "https-only",
                        originSslProtocols: ["TLSv1.2"],
                        originReadTimeout: 30,
                        originKeepaliveTimeout: 5,
                    },
                    // CloudFront replaces a viewer's own header of this name.
                    customHeaders: [{ name: ORIGIN_VERIFY_HEADER, value: config.originVerifySecret }],
                },
            ],
            defaultCacheBehavior: {
                targetOriginId: FRONTEND_ORIGIN_ID,
                viewerProtocolPolicy: "redirect-to-https",
                allowedMethods: ["GET", "HEAD", "OPTIONS"],
                cachedMethods: ["GET", "HEAD"],
                compress: true,
                cachePolicyId: MANAGED_POLICY.cachingOptimized,
                responseHeadersPolicyId: siteHeaders.id,
                functionAssociations: [{ eventType: "viewer-request", functionArn: spaRouting.arn }],
            },
            orderedCacheBehaviors: [
                {
                    pathPattern: API_PATH_PATTERN,
                    targetOriginId: API_ORIGIN_ID,
                    viewerProtocolPolicy: "https-only",
                    allowedMethods: ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
                    cachedMethods: ["GET", "HEAD"],
                    compress: true,
                    cachePolicyId: MANAGED_POLICY.cachingDisabled,
                    originRequestPolicyId: MANAGED_POLICY.allViewerExceptHostHeader,
                    responseHeadersPolicyId: apiHeaders.id,
                    functionAssociations: [{ eventType: "viewer-request", functionArn: apiViewerAddress.arn }],
                },
            ],
            restrictions: { geoRestriction: { restrictionType: "none" } },
            viewerCertificate: {
                acmCertificateArn: args.certificateArn,
                sslSupportMethod: "sni-only",
                minimumProtocolVersion: "TLSv1.2_2021",
            },
        },
        { ...opts, dependsOn: [args.apiDns.records.east, args.apiDns.records.west] },
    );

    for (const type of ["A", "AAAA"] as const) {
        new aws.route53.Record(
            `${PROJECT}-site-${type.toLowerCase()}`,
            {
                zoneId: args.zoneId,
                name: config.domainName,
                type,
                aliases: [
                    {
                        name: distribution.domainName,
                        zoneId: distribution.hostedZoneId,
                        evaluateTargetHealth: false,
                    },
                ],
            },
            opts,
        );
    }

    return { distribution, siteHeaders, apiHeaders, originAccessControl, spaRouting, apiViewerAddress };
}
