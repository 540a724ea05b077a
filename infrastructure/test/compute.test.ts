// Aurora DSQL, the Lambda functions and the HTTP APIs.

import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { ACCESS_LOG_FORMAT, apiEnvironment } from "../src/lambda";
import { AppConfig } from "../src/types";
import { LoadedProgram, loadProgram, ofType, RecordedResource, TEST_CONFIG, byName } from "./mocks";

const REGIONS = ["us-east-1", "us-east-2"] as const;
/** Pulumi's marker of a secret value in serialized inputs. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

function unwrapSecret(value: any): { value: any; secret: boolean } {
    if (value && typeof value === "object" && value[SECRET_SIG] !== undefined) {
        return { value: value.value, secret: true };
    }
    return { value, secret: false };
}

describe("database (Aurora DSQL)", () => {
    let program: LoadedProgram;
    let clusters: RecordedResource[];
    let peerings: RecordedResource[];
    before(async () => {
        program = await loadProgram();
        clusters = ofType(program, "aws:dsql/cluster:Cluster");
        peerings = ofType(program, "aws:dsql/clusterPeering:ClusterPeering");
    });

    it("has one cluster in each serving region", () => {
        assert.deepEqual(clusters.map((c) => c.region).sort(), [...REGIONS]);
    });

    it("protects both clusters from deletion", () => {
        for (const c of clusters) {
            assert.equal(c.inputs.deletionProtectionEnabled, true, c.name);
        }
    });

    it("makes both clusters multi-region with the us-west-2 witness", () => {
        for (const c of clusters) {
            assert.deepEqual(c.inputs.multiRegionProperties, { witnessRegion: "us-west-2" }, c.name);
        }
    });

    it("peers each cluster with the other one, both ways, through the witness", () => {
        assert.equal(peerings.length, 2);
        for (const region of REGIONS) {
            const self = clusters.find((c) => c.region === region)!;
            const other = clusters.find((c) => c.region !== region)!;
            const peering = peerings.find((p) => p.region === region);
            assert.ok(peering, `no peering created in ${region}`);
            assert.equal(peering.inputs.identifier, self.state.identifier);
            assert.deepEqual(peering.inputs.clusters, [other.state.arn]);
            assert.equal(peering.inputs.witnessRegion, "us-west-2");
        }
    });
});

describe("API (Lambda + HTTP API)", () => {
    let program: LoadedProgram;
    let functions: RecordedResource[];
    before(async () => {
        program = await loadProgram();
        functions = ofType(program, "aws:lambda/function:Function");
    });

    it("has one function per serving region", () => {
        assert.deepEqual(functions.map((f) => f.region).sort(), [...REGIONS]);
    });

    it("runs the ARM64 custom-runtime bootstrap with a 30 s timeout", async () => {
        for (const f of functions) {
            assert.deepEqual(f.inputs.architectures, ["arm64"], f.name);
            assert.equal(f.inputs.runtime, "provided.al2023", f.name);
            assert.equal(f.inputs.handler, "bootstrap", f.name);
            assert.equal(f.inputs.timeout, 30, f.name);
            assert.ok(f.inputs.memorySize >= 1024, `${f.name} memory: photos up to 50 megapixels are decoded`);
            assert.equal(f.inputs.code.__pulumiArchive, true, `${f.name} code is not an archive`);
            assert.equal(await f.inputs.code.path, "dist/bootstrap.zip", `${f.name} code path`);
        }
    });

    it("gives the backend its whole environment", () => {
        for (const f of functions) {
            const env = unwrapSecret(f.inputs.environment).value.variables;
            const cluster = ofType(program, "aws:dsql/cluster:Cluster").find((c) => c.region === f.region)!;
            const bucket = ofType(program, "aws:s3/bucket:Bucket").find(
                (b) => b.name === `home-inventory-photos-${f.region}`,
            )!;
            assert.deepEqual(env, {
                DATABASE_URL: `dsql://app@${cluster.state.identifier}.dsql.${f.region}.on.aws`,
                PUBLIC_URL: `https://${TEST_CONFIG.domainName}`,
                PHOTOS_BUCKET: bucket.state.bucket,
                GOOGLE_CLIENT_ID: TEST_CONFIG.googleClientId,
                GOOGLE_CLIENT_SECRET: TEST_CONFIG.googleClientSecret,
                ANTHROPIC_API_KEY: TEST_CONFIG.anthropicApiKey,
                LOCAL_AUTH: "true",
                RUST_LOG: "info",
                TRUSTED_PROXY: "cloudfront",
                ORIGIN_VERIFY_SECRET: TEST_CONFIG.originVerifySecret,
            });
        }
    });

    it("leaves TRUSTED_PROXY and ORIGIN_VERIFY_SECRET out while trustCloudFrontHeaders is false", () => {
        const config = {
            domainName: TEST_CONFIG.domainName,
            apiDomainName: `api.${TEST_CONFIG.domainName}`,
            githubRepo: TEST_CONFIG.githubRepo,
            googleClientId: pulumi.secret(TEST_CONFIG.googleClientId),
            googleClientSecret: pulumi.secret(TEST_CONFIG.googleClientSecret),
            anthropicApiKey: pulumi.secret(TEST_CONFIG.anthropicApiKey),
            originVerifySecret: pulumi.secret(TEST_CONFIG.originVerifySecret),
        };
        const env = (trust: boolean) =>
            apiEnvironment({
                config: { ...config, trustCloudFrontHeaders: trust } as AppConfig,
                dsqlEndpoint: "x.dsql.us-east-1.on.aws",
                photoBucket: "photos",
            });
        assert.ok("TRUSTED_PROXY" in env(true) && "ORIGIN_VERIFY_SECRET" in env(true));
        assert.ok(!("TRUSTED_PROXY" in env(false)) && !("ORIGIN_VERIFY_SECRET" in env(false)));
        assert.deepEqual(Object.keys(env(false)).sort(), Object.keys(env(true)).filter((k) => k !== "TRUSTED_PROXY" && k !== "ORIGIN_VERIFY_SECRET").sort());
    });

    it("passes the environment as a secret (it holds API keys)", () => {
        for (const f of functions) {
            assert.equal(unwrapSecret(f.inputs.environment).secret, true, f.name);
        }
    });

    it("logs to /aws/lambda/<name> with a retention period", () => {
        for (const f of functions) {
            const group = byName(program, "aws:cloudwatch/logGroup:LogGroup", f.inputs.name);
            assert.equal(group.inputs.name, `/aws/lambda/${f.inputs.name}`);
            assert.equal(group.region, f.region);
            assert.ok(group.inputs.retentionInDays > 0 && group.inputs.retentionInDays <= 90);
            assert.equal(f.inputs.loggingConfig.logGroup, group.inputs.name);
        }
    });

    it("fronts each function with an HTTP API: proxy integration, payload 2.0, /api routes", () => {
        for (const region of REGIONS) {
            const fn = functions.find((f) => f.region === region)!;
            const api = ofType(program, "aws:apigatewayv2/api:Api").find((a) => a.region === region)!;
            assert.equal(api.inputs.protocolType, "HTTP");
            const integration = ofType(program, "aws:apigatewayv2/integration:Integration").find(
                (i) => i.region === region,
            )!;
            assert.equal(integration.inputs.apiId, api.id);
            assert.equal(integration.inputs.integrationType, "AWS_PROXY");
            assert.equal(integration.inputs.integrationUri, fn.state.invokeArn);
            assert.equal(integration.inputs.payloadFormatVersion, "2.0");
            const route = ofType(program, "aws:apigatewayv2/route:Route").find((r) => r.region === region)!;
            assert.equal(route.inputs.routeKey, "ANY /api/{proxy+}");
            assert.equal(route.inputs.target, `integrations/${integration.id}`);
            const stage = ofType(program, "aws:apigatewayv2/stage:Stage").find((s) => s.region === region)!;
            assert.equal(stage.inputs.name, "$default");
            assert.equal(stage.inputs.autoDeploy, true);
        }
    });

    it("lets only its own API invoke each function", () => {
        for (const region of REGIONS) {
            const fn = functions.find((f) => f.region === region)!;
            const api = ofType(program, "aws:apigatewayv2/api:Api").find((a) => a.region === region)!;
            const permission = ofType(program, "aws:lambda/permission:Permission").find((p) => p.region === region)!;
            assert.equal(permission.inputs.action, "lambda:InvokeFunction");
            assert.equal(permission.inputs.function, fn.state.name);
            assert.equal(permission.inputs.principal, "apigateway.amazonaws.com");
            assert.equal(permission.inputs.sourceArn, `${api.state.executionArn}/*/*`);
        }
    });

    it("serves api.<domain> from a regional custom domain in each region, and no other name", () => {
        const domains = ofType(program, "aws:apigatewayv2/domainName:DomainName");
        assert.deepEqual(domains.map((d) => d.region).sort(), [...REGIONS]);
        const mappings = ofType(program, "aws:apigatewayv2/apiMapping:ApiMapping");
        assert.equal(mappings.length, 2);
        for (const d of domains) {
            // CloudFront sends Host: api.<domain> (it forwards every viewer header but Host).
            assert.equal(d.inputs.domainName, `api.${TEST_CONFIG.domainName}`);
            assert.equal(d.inputs.domainNameConfiguration.endpointType, "REGIONAL");
            assert.equal(d.inputs.domainNameConfiguration.securityPolicy, "TLS_1_2");
            const cert = ofType(program, "aws:acm/certificate:Certificate").find(
                (c) => c.state.arn === d.inputs.domainNameConfiguration.certificateArn,
            );
            assert.ok(cert, `${d.name}: certificate is not one of the stack's`);
            assert.equal(cert.region, d.region, `${d.name}: certificate from another region`);
            const names = [cert.inputs.domainName, ...(cert.inputs.subjectAlternativeNames ?? [])];
            assert.ok(names.includes(`api.${TEST_CONFIG.domainName}`));
            const api = ofType(program, "aws:apigatewayv2/api:Api").find((a) => a.region === d.region)!;
            const mapping = mappings.filter((m) => m.region === d.region);
            assert.equal(mapping.length, 1, `${d.region}: one mapping`);
            assert.equal(mapping[0].inputs.apiId, api.id);
            assert.equal(mapping[0].inputs.domainName, d.id);
            assert.equal(mapping[0].inputs.stage, "$default");
        }
    });

    describe("access logs", () => {
        let stages: RecordedResource[];
        before(() => {
            stages = ofType(program, "aws:apigatewayv2/stage:Stage");
            assert.equal(stages.length, 2);
        });

        it("go to /aws/apigateway/<api> in the stage's region, with a retention period", () => {
            for (const stage of stages) {
                const group = ofType(program, "aws:cloudwatch/logGroup:LogGroup").find(
                    (g) => g.state.arn === stage.inputs.accessLogSettings.destinationArn,
                );
                assert.ok(group, `${stage.name}: access log group is not the stack's`);
                assert.equal(group.region, stage.region);
                assert.match(group.inputs.name, /^\/aws\/apigateway\//);
                assert.ok(group.inputs.retentionInDays > 0 && group.inputs.retentionInDays <= 90);
            }
        });

        it("record the route, not the path, which can hold invitation codes and feed secrets", () => {
            for (const stage of stages) {
                const format: string = stage.inputs.accessLogSettings.format;
                assert.equal(format, ACCESS_LOG_FORMAT, stage.name);
                assert.ok(!format.includes("$context.path"), `${stage.name} logs $context.path`);
                // Nor anything else that carries the path or the query string.
                for (const banned of ["$context.resourcePath", "$context.requestOverride", "$request", "$input"]) {
                    assert.ok(!format.includes(banned), `${stage.name} logs ${banned}`);
                }
            }
            const fields = JSON.parse(ACCESS_LOG_FORMAT);
            assert.equal(fields.routeKey, "$context.routeKey");
            assert.equal(fields.path, undefined);
            for (const key of ["requestId", "ip", "requestTime", "method", "status", "latencyMs", "integrationLatency", "integrationError"]) {
                assert.ok(typeof fields[key] === "string" && fields[key].startsWith("$context."), `no ${key}`);
            }
        });
    });
});
