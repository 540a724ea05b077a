// CloudFront, ACM and Route 53.

import * as assert from "node:assert/strict";
import * as vm from "node:vm";
import { SPA_ROUTING_FUNCTION_CODE, VIEWER_ADDRESS_FUNCTION_CODE } from "../src/cloudfront";
import {
    byName,
    CLOUDFRONT_ZONE_ID,
    isSecret,
    LoadedProgram,
    loadProgram,
    ofType,
    policyOf,
    RecordedResource,
    reveal,
    TEST_CONFIG,
} from "./mocks";

const DOMAIN = TEST_CONFIG.domainName;
const API_DOMAIN = `api.${DOMAIN}`;
const CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
const ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac";
const ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3";

/** Runs the CloudFront function's handler on a request for `uri`. */
function routeSpa(uri: string): string {
    const handler = new Function(`${SPA_ROUTING_FUNCTION_CODE}\nreturn handler;`)() as (e: any) => any;
    return handler({ request: { uri, method: "GET", headers: {} } }).uri;
}

/**
 * Runs the /api/* viewer-request function, in a context of its own (no Node globals), on a
 * viewer-request event; returns the request it hands on, as plain data.
 */
function viewerAddressRequest(event: any): any {
    const context = vm.createContext({});
    vm.runInContext(VIEWER_ADDRESS_FUNCTION_CODE, context, { timeout: 1000 });
    const result = (context as any).handler(JSON.parse(JSON.stringify(event)));
    return JSON.parse(JSON.stringify(result));
}

/** A viewer-request event as CloudFront Functions (cloudfront-js-2.0) receive it. */
function viewerRequestEvent(ip: string, headers: Record<string, any> = {}): any {
    return {
        version: "1.0",
        context: { eventType: "viewer-request", distributionDomainName: "d111111abcdef8.cloudfront.net" },
        viewer: { ip },
        request: {
            method: "POST",
            uri: "/api/v1/auth/login",
            querystring: { next: { value: "/items" } },
            headers: { host: { value: DOMAIN }, ...headers },
            cookies: { session: { value: "abc" } },
        },
    };
}

describe("edge (CloudFront, ACM, Route 53)", () => {
    let program: LoadedProgram;
    let distribution: RecordedResource;
    /** The distribution's inputs with secrets revealed (the API origin carries one). */
    let d: any;
    before(async () => {
        program = await loadProgram();
        const all = ofType(program, "aws:cloudfront/distribution:Distribution");
        assert.equal(all.length, 1);
        distribution = all[0];
        d = reveal(distribution.inputs);
    });

    describe("CloudFront", () => {
        it("serves the site's domain with the validated us-east-1 certificate", () => {
            assert.equal(d.enabled, true);
            assert.deepEqual(d.aliases, [DOMAIN]);
            const cert = ofType(program, "aws:acm/certificate:Certificate").find(
                (c) => c.state.arn === d.viewerCertificate.acmCertificateArn,
            );
            assert.ok(cert, "viewer certificate is not the stack's");
            assert.equal(cert.region, "us-east-1");
            assert.equal(cert.inputs.domainName, DOMAIN);
            assert.equal(d.viewerCertificate.sslSupportMethod, "sni-only");
            assert.match(d.viewerCertificate.minimumProtocolVersion, /^TLSv1\.2/);
        });

        it("sends the default behaviour to the private bucket through origin access control", () => {
            const frontend = byName(program, "aws:s3/bucket:Bucket", "home-inventory-frontend");
            const oac = ofType(program, "aws:cloudfront/originAccessControl:OriginAccessControl");
            assert.equal(oac.length, 1);
            assert.equal(oac[0].inputs.originAccessControlOriginType, "s3");
            assert.equal(oac[0].inputs.signingBehavior, "always");
            assert.equal(oac[0].inputs.signingProtocol, "sigv4");
            const origin = d.origins.find((o: any) => o.originId === d.defaultCacheBehavior.targetOriginId);
            assert.equal(origin.domainName, frontend.state.bucketRegionalDomainName);
            assert.equal(origin.originAccessControlId, oac[0].id);
            assert.equal(origin.s3OriginConfig, undefined, "no legacy origin access identity");
            assert.equal(ofType(program, "aws:cloudfront/originAccessIdentity:OriginAccessIdentity").length, 0);
            assert.equal(d.defaultCacheBehavior.viewerProtocolPolicy, "redirect-to-https");
        });

        it("lets only this distribution read the frontend bucket", () => {
            const policy = policyOf(byName(program, "aws:s3/bucketPolicy:BucketPolicy", "home-inventory-frontend-policy"));
            const frontend = byName(program, "aws:s3/bucket:Bucket", "home-inventory-frontend");
            const read = policy.Statement.find((s: any) => s.Action === "s3:GetObject");
            assert.deepEqual(read.Principal, { Service: "cloudfront.amazonaws.com" });
            assert.equal(read.Resource, `${frontend.state.arn}/*`);
            assert.deepEqual(read.Condition, { StringEquals: { "AWS:SourceArn": distribution.state.arn } });
            for (const s of policy.Statement) {
                assert.deepEqual(s.Condition, { StringEquals: { "AWS:SourceArn": distribution.state.arn } });
                assert.ok(!["s3:PutObject", "s3:DeleteObject", "s3:*"].includes(s.Action));
            }
        });

        it("sends /api/* to api.<domain> uncached, forwarding everything but Host", () => {
            const api = d.orderedCacheBehaviors.filter((b: any) => b.pathPattern === "/api/*");
            assert.equal(api.length, 1);
            const [b] = api;
            const origin = d.origins.find((o: any) => o.originId === b.targetOriginId);
            assert.equal(origin.domainName, API_DOMAIN);
            assert.equal(origin.customOriginConfig.originProtocolPolicy, "https-only");
            assert.equal(b.cachePolicyId, CACHING_DISABLED);
            // The managed policy: API Gateway picks the custom domain by Host, so CloudFront
            // must send Host: api.<domain>, not the viewer's.
            assert.equal(b.originRequestPolicyId, ALL_VIEWER_EXCEPT_HOST);
            assert.equal(ofType(program, "aws:cloudfront/originRequestPolicy:OriginRequestPolicy").length, 0);
            assert.deepEqual([...b.allowedMethods].sort(), ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]);
            assert.equal(b.viewerProtocolPolicy, "https-only");
        });

        it("sets x-viewer-address on /api/* requests with a viewer-request function, and only there", () => {
            const [b] = d.orderedCacheBehaviors.filter((x: any) => x.pathPattern === "/api/*");
            const fn = ofType(program, "aws:cloudfront/function:Function").filter(
                (f) => f.inputs.code === VIEWER_ADDRESS_FUNCTION_CODE,
            );
            assert.equal(fn.length, 1);
            assert.equal(fn[0].inputs.runtime, "cloudfront-js-2.0");
            assert.equal(fn[0].inputs.publish, true, "an unpublished function cannot be associated");
            assert.equal(fn[0].region, "us-east-1");
            assert.deepEqual(b.functionAssociations, [{ eventType: "viewer-request", functionArn: fn[0].state.arn }]);
            assert.equal(b.lambdaFunctionAssociations, undefined);
            assert.ok(
                !JSON.stringify(d.defaultCacheBehavior.functionAssociations).includes(fn[0].state.arn),
                "the site's own requests need no viewer address",
            );
            assert.match(VIEWER_ADDRESS_FUNCTION_CODE, /event\.viewer\.ip/);
        });

        it("takes x-viewer-address from the connection: a viewer cannot forge it", () => {
            const forged = viewerAddressRequest(
                viewerRequestEvent("203.0.113.9", { "x-viewer-address": { value: "1.2.3.4" } }),
            );
            assert.deepEqual(forged.headers["x-viewer-address"], { value: "203.0.113.9" });
            // Several forged values: none survives, not even as a second value.
            const many = viewerAddressRequest(
                viewerRequestEvent("203.0.113.9", {
                    "x-viewer-address": { value: "1.2.3.4", multiValue: [{ value: "1.2.3.4" }, { value: "5.6.7.8" }] },
                }),
            );
            assert.deepEqual(many.headers["x-viewer-address"], { value: "203.0.113.9" });
            const none = viewerAddressRequest(viewerRequestEvent("198.51.100.7"));
            assert.deepEqual(none.headers["x-viewer-address"], { value: "198.51.100.7" });
            const v6 = viewerAddressRequest(viewerRequestEvent("2001:db8::1"));
            assert.deepEqual(v6.headers["x-viewer-address"], { value: "2001:db8::1" });
        });

        it("changes nothing else in the request", () => {
            const event = viewerRequestEvent("203.0.113.9", { authorization: { value: "Bearer t" } });
            const out = viewerAddressRequest(event);
            const { "x-viewer-address": added, ...rest } = out.headers;
            assert.ok(added);
            assert.deepEqual({ ...out, headers: rest }, event.request);
        });

        it("passes Authorization (API tokens) through CloudFront and API Gateway to the API", () => {
            const [b] = d.orderedCacheBehaviors.filter((x: any) => x.pathPattern === "/api/*");
            // CloudFront forwards a viewer's Authorization header only with caching disabled and
            // a managed all-viewer-headers origin request policy: a custom origin request policy
            // may not name it, and a cache policy would make it part of the cache key.
            assert.equal(b.cachePolicyId, CACHING_DISABLED);
            assert.ok([ALL_VIEWER, ALL_VIEWER_EXCEPT_HOST].includes(b.originRequestPolicyId), b.originRequestPolicyId);
            assert.equal(b.forwardedValues, undefined, "legacy cache settings would replace both policies");
            // The viewer-request function hands it on untouched.
            const bearer = { value: "Bearer hinv_0123456789abcdefghijABCDEFGHIJ012345" };
            const out = viewerAddressRequest(viewerRequestEvent("203.0.113.9", { authorization: bearer }));
            assert.deepEqual(out.headers.authorization, bearer);
            // API Gateway: no authorizer of its own in front of the function and no parameter
            // mapping, so the function sees the header as the viewer sent it.
            assert.equal(ofType(program, "aws:apigatewayv2/authorizer:Authorizer").length, 0);
            const routes = ofType(program, "aws:apigatewayv2/route:Route");
            assert.ok(routes.length > 0);
            for (const route of routes) {
                assert.ok([undefined, "NONE"].includes(route.inputs.authorizationType), route.inputs.authorizationType);
                assert.equal(route.inputs.authorizerId, undefined);
            }
            for (const integration of ofType(program, "aws:apigatewayv2/integration:Integration")) {
                assert.equal(integration.inputs.requestParameters, undefined);
            }
        });

        it("sends the API the origin-verify secret, kept secret, and nothing of it to the bucket", () => {
            const [b] = d.orderedCacheBehaviors.filter((x: any) => x.pathPattern === "/api/*");
            const api = d.origins.find((o: any) => o.originId === b.targetOriginId);
            assert.deepEqual(api.customHeaders, [{ name: "X-Origin-Verify", value: TEST_CONFIG.originVerifySecret }]);
            const frontend = d.origins.find((o: any) => o.originId === d.defaultCacheBehavior.targetOriginId);
            assert.ok(!JSON.stringify(frontend).includes(TEST_CONFIG.originVerifySecret));
            assert.ok(isSecret(distribution.inputs.origins), "the origins hold a secret but are not marked secret");
        });

        it("gives the API the same secret and tells it to trust CloudFront's viewer address", () => {
            // The jobs functions share the API's environment (their own events are exempt).
            const functions = ofType(program, "aws:lambda/function:Function");
            assert.equal(functions.length, 4, "the API and jobs functions of both regions");
            for (const f of functions) {
                const env = reveal(f.inputs.environment).variables;
                assert.equal(env.TRUSTED_PROXY, "cloudfront", f.name);
                assert.equal(env.ORIGIN_VERIFY_SECRET, TEST_CONFIG.originVerifySecret, f.name);
            }
        });

        it("routes SPA paths to /index.html without touching API errors", () => {
            const all = ofType(program, "aws:cloudfront/function:Function");
            assert.equal(all.length, 2, "the SPA routing and the viewer address functions");
            const fn = all.filter((f) => f.inputs.code === SPA_ROUTING_FUNCTION_CODE);
            assert.equal(fn.length, 1);
            assert.equal(fn[0].inputs.runtime, "cloudfront-js-2.0");
            assert.equal(fn[0].inputs.code, SPA_ROUTING_FUNCTION_CODE);
            assert.deepEqual(d.defaultCacheBehavior.functionAssociations, [
                { eventType: "viewer-request", functionArn: fn[0].state.arn },
            ]);
            // Distribution-wide error pages would turn the API's 403/404 into 200 index.html.
            assert.ok(!d.customErrorResponses || d.customErrorResponses.length === 0);
        });

        it("rewrites client-side routes and leaves files alone", () => {
            assert.equal(routeSpa("/"), "/index.html");
            assert.equal(routeSpa("/items"), "/index.html");
            assert.equal(routeSpa("/items/01890a5d-ac96-774b-bcce-b302099a8057"), "/index.html");
            assert.equal(routeSpa("/locations/"), "/index.html");
            assert.equal(routeSpa("/index.html"), "/index.html");
            assert.equal(routeSpa("/app-9f86d081884c7d65.js"), "/app-9f86d081884c7d65.js");
            assert.equal(routeSpa("/app-9f86d081884c7d65_bg.wasm"), "/app-9f86d081884c7d65_bg.wasm");
            assert.equal(routeSpa("/icons/icon-192.png"), "/icons/icon-192.png");
            assert.equal(routeSpa("/manifest.json"), "/manifest.json");
        });

        it("sends the app's security headers with every page, and a strict policy", () => {
            const site = byName(program, "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy", "home-inventory-site-headers");
            assert.equal(d.defaultCacheBehavior.responseHeadersPolicyId, site.id);
            const h = reveal(site.inputs).securityHeadersConfig;
            const csp: string = h.contentSecurityPolicy.contentSecurityPolicy;
            const directives = new Map(
                csp.split(";").map((part) => {
                    const [name, ...values] = part.trim().split(/\s+/);
                    return [name, values] as [string, string[]];
                }),
            );
            // Only the site's own scripts and its WebAssembly: no inline script, no eval.
            assert.deepEqual(directives.get("script-src"), ["'self'", "'wasm-unsafe-eval'"]);
            assert.deepEqual(directives.get("style-src"), ["'self'"]);
            assert.deepEqual(directives.get("object-src"), ["'none'"]);
            assert.deepEqual(directives.get("frame-ancestors"), ["'none'"]);
            assert.ok(!csp.includes("unsafe-inline") && !csp.includes("'unsafe-eval'"));
            // Presigned photo addresses lead to the photo buckets of both regions.
            const buckets = ofType(program, "aws:s3/bucket:Bucket").filter((b) => b.name.startsWith("home-inventory-photos-"));
            assert.equal(new Set(buckets.map((b) => b.region)).size, 2, "a photo bucket in each region");
            for (const photos of buckets) {
                const origin = `https://${photos.state.bucketRegionalDomainName}`;
                assert.ok(directives.get("img-src")!.includes(origin), `img-src ${origin}`);
                assert.ok(directives.get("connect-src")!.includes(origin), `connect-src ${origin}`);
            }
            assert.equal(h.contentSecurityPolicy.override, true);
            assert.deepEqual(h.contentTypeOptions, { override: true });
            assert.deepEqual(h.frameOptions, { frameOption: "DENY", override: true });
            assert.deepEqual(h.referrerPolicy, { referrerPolicy: "no-referrer", override: true });
            assert.equal(h.strictTransportSecurity.includeSubdomains, true);
            assert.ok(h.strictTransportSecurity.accessControlMaxAgeSec >= 31536000);
            const custom = reveal(site.inputs).customHeadersConfig.items;
            const permissions = custom.find((i: any) => i.header === "Permissions-Policy");
            assert.match(permissions.value, /camera=\(self\)/);
            assert.match(permissions.value, /geolocation=\(\)/);
        });

        it("fills in the security headers an API answer lacks, keeping the API's own", () => {
            const api = byName(program, "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy", "home-inventory-api-headers");
            const [b] = d.orderedCacheBehaviors.filter((x: any) => x.pathPattern === "/api/*");
            assert.equal(b.responseHeadersPolicyId, api.id);
            const h = reveal(api.inputs).securityHeadersConfig;
            assert.equal(h.contentSecurityPolicy.override, false);
            assert.match(h.contentSecurityPolicy.contentSecurityPolicy, /default-src 'none'/);
            assert.equal(h.frameOptions.override, false);
            assert.equal(h.strictTransportSecurity.override, false);
            assert.deepEqual(h.contentTypeOptions, { override: true });
        });

        it("points the site's A and AAAA records at the distribution", () => {
            for (const type of ["A", "AAAA"]) {
                const records = ofType(program, "aws:route53/record:Record").filter(
                    (r) => r.inputs.name === DOMAIN && r.inputs.type === type,
                );
                assert.equal(records.length, 1, `${type} record`);
                assert.deepEqual(records[0].inputs.aliases, [
                    { name: distribution.state.domainName, zoneId: CLOUDFRONT_ZONE_ID, evaluateTargetHealth: false },
                ]);
            }
        });
    });

    describe("API failover (Route 53 latency records with health checks)", () => {
        it("has one health check per region, probing that region's /api/health", () => {
            const checks = ofType(program, "aws:route53/healthCheck:HealthCheck");
            assert.equal(checks.length, 2);
            for (const region of ["us-east-1", "us-east-2"]) {
                const api = ofType(program, "aws:apigatewayv2/api:Api").find((a) => a.region === region)!;
                const host = api.state.apiEndpoint.replace("https://", "");
                const check = checks.find((c) => c.inputs.fqdn === host);
                assert.ok(check, `no health check for ${region}`);
                assert.equal(check.inputs.type, "HTTPS");
                assert.equal(check.inputs.port, 443);
                assert.equal(check.inputs.resourcePath, "/api/health");
                assert.ok(check.inputs.failureThreshold >= 1 && check.inputs.failureThreshold <= 5);
            }
        });

        it("answers api.<domain> with latency records, one per region, each tied to its health check", () => {
            const records = ofType(program, "aws:route53/record:Record").filter((r) => r.inputs.name === API_DOMAIN);
            assert.equal(records.length, 2);
            for (const region of ["us-east-1", "us-east-2"]) {
                const record = records.find((r) => r.inputs.setIdentifier === region);
                assert.ok(record, `no record for ${region}`);
                assert.equal(record.inputs.type, "A");
                assert.deepEqual(record.inputs.latencyRoutingPolicies, [{ region }]);
                const api = ofType(program, "aws:apigatewayv2/api:Api").find((a) => a.region === region)!;
                const check = ofType(program, "aws:route53/healthCheck:HealthCheck").find(
                    (c) => c.inputs.fqdn === api.state.apiEndpoint.replace("https://", ""),
                )!;
                assert.equal(record.inputs.healthCheckId, check.id);
                const domain = ofType(program, "aws:apigatewayv2/domainName:DomainName").find((d) => d.region === region)!;
                assert.deepEqual(record.inputs.aliases, [
                    {
                        name: domain.state.domainNameConfiguration.targetDomainName,
                        zoneId: domain.state.domainNameConfiguration.hostedZoneId,
                        evaluateTargetHealth: true,
                    },
                ]);
            }
        });

        it("has no CloudFront origin group (it would only fail over reads)", () => {
            assert.ok(!distribution.inputs.originGroups || distribution.inputs.originGroups.length === 0);
        });
    });

    describe("certificates", () => {
        it("validates every certificate by DNS, with a record for each name", () => {
            const certs = ofType(program, "aws:acm/certificate:Certificate");
            assert.deepEqual(certs.map((c) => c.region).sort(), ["us-east-1", "us-east-2"]);
            for (const cert of certs) {
                assert.equal(cert.inputs.validationMethod, "DNS");
                const validation = ofType(program, "aws:acm/certificateValidation:CertificateValidation").find(
                    (v) => v.inputs.certificateArn === cert.state.arn,
                );
                assert.ok(validation, `${cert.name} is never validated`);
                assert.equal(validation.region, cert.region);
                for (const option of cert.state.domainValidationOptions) {
                    const record = ofType(program, "aws:route53/record:Record").find(
                        (r) => r.inputs.name === option.resourceRecordName && r.name.startsWith(`${cert.name}-validation-`),
                    );
                    assert.ok(record, `${cert.name}: no record for ${option.domainName}`);
                    assert.equal(record.inputs.type, "CNAME");
                    assert.deepEqual(record.inputs.records, [option.resourceRecordValue]);
                    assert.ok(validation.inputs.validationRecordFqdns.includes(record.state.fqdn));
                }
            }
        });

        it("covers the site in us-east-1 (for CloudFront) and api.<domain> in both regions", () => {
            const certs = ofType(program, "aws:acm/certificate:Certificate");
            const names = (c: RecordedResource) => [c.inputs.domainName, ...(c.inputs.subjectAlternativeNames ?? [])];
            const east = certs.filter((c) => c.region === "us-east-1");
            const west = certs.filter((c) => c.region === "us-east-2");
            assert.equal(east.length, 1);
            assert.equal(west.length, 1);
            assert.deepEqual(names(east[0]).sort(), [API_DOMAIN, DOMAIN].sort());
            assert.deepEqual(names(west[0]), [API_DOMAIN]);
        });
    });
});
