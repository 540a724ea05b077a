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

/** The API functions (home-inventory-api-<region>), not the jobs functions. */
function apiFunctions(program: LoadedProgram): RecordedResource[] {
    return ofType(program, "aws:lambda/function:Function").filter((f) => f.name.startsWith("home-inventory-api-"));
}

/** The jobs functions (home-inventory-jobs-<region>). */
function jobsFunctions(program: LoadedProgram): RecordedResource[] {
    return ofType(program, "aws:lambda/function:Function").filter((f) => f.name.startsWith("home-inventory-jobs-"));
}

describe("API (Lambda + HTTP API)", () => {
    let program: LoadedProgram;
    let functions: RecordedResource[];
    before(async () => {
        program = await loadProgram();
        functions = apiFunctions(program);
    });

    it("has one function per serving region, and a jobs function beside each", () => {
        assert.deepEqual(functions.map((f) => f.region).sort(), [...REGIONS]);
        const all = ofType(program, "aws:lambda/function:Function");
        assert.deepEqual(all.map((f) => f.inputs.name).sort(), [
            "home-inventory-api-us-east-1",
            "home-inventory-api-us-east-2",
            "home-inventory-jobs-us-east-1",
            "home-inventory-jobs-us-east-2",
        ]);
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

    it("gives the backend its whole environment, and the name of its region's jobs function", () => {
        for (const f of functions) {
            const env = unwrapSecret(f.inputs.environment).value.variables;
            const cluster = ofType(program, "aws:dsql/cluster:Cluster").find((c) => c.region === f.region)!;
            const bucket = ofType(program, "aws:s3/bucket:Bucket").find(
                (b) => b.name === `home-inventory-photos-${f.region}`,
            )!;
            const jobs = jobsFunctions(program).find((j) => j.region === f.region)!;
            assert.equal(jobs.state.name, `home-inventory-jobs-${f.region}`);
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
                SES_REGION: f.region,
                MAIL_FROM: `Home Inventory <reminders@${TEST_CONFIG.domainName}>`,
                JOBS_FUNCTION: jobs.state.name,
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
            const permissions = ofType(program, "aws:lambda/permission:Permission").filter(
                (p) => p.region === region && p.inputs.function === fn.state.name,
            );
            assert.equal(permissions.length, 1, `${region}: one resource-based permission`);
            const [permission] = permissions;
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

describe("jobs functions (Lambda, invoked by the API)", () => {
    let program: LoadedProgram;
    let jobs: RecordedResource[];
    const apiOf = (region: string) => apiFunctions(program).find((f) => f.region === region)!;
    before(async () => {
        program = await loadProgram();
        jobs = jobsFunctions(program);
    });

    it("has one per serving region, named home-inventory-jobs-<region>", () => {
        assert.deepEqual(jobs.map((f) => f.region).sort(), [...REGIONS]);
        for (const f of jobs) {
            assert.equal(f.inputs.name, `home-inventory-jobs-${f.region}`);
        }
    });

    it("runs the API's zip and bootstrap on ARM64 for up to 15 minutes, with 1 GiB and a 10 GB /tmp", async () => {
        for (const f of jobs) {
            const api = apiOf(f.region!);
            assert.deepEqual(f.inputs.architectures, ["arm64"], f.name);
            assert.equal(f.inputs.runtime, "provided.al2023", f.name);
            assert.equal(f.inputs.handler, api.inputs.handler, f.name);
            assert.equal(f.inputs.code.__pulumiArchive, true, `${f.name} code is not an archive`);
            assert.equal(await f.inputs.code.path, await api.inputs.code.path, `${f.name}: not the API's zip`);
            assert.equal(f.inputs.timeout, 900, f.name);
            assert.equal(f.inputs.memorySize, 1024, f.name);
            assert.deepEqual(f.inputs.ephemeralStorage, { size: 10240 }, `${f.name}: /tmp holds whole backups`);
        }
    });

    it("has the API's environment, without JOBS_FUNCTION, as a secret", () => {
        for (const f of jobs) {
            const api = apiOf(f.region!);
            const { value, secret } = unwrapSecret(f.inputs.environment);
            assert.equal(secret, true, `${f.name}: the environment holds API keys`);
            const { JOBS_FUNCTION, ...apiEnv } = unwrapSecret(api.inputs.environment).value.variables;
            assert.equal(JOBS_FUNCTION, f.state.name);
            assert.deepEqual(value.variables, apiEnv, f.name);
            assert.ok(!("JOBS_FUNCTION" in value.variables), `${f.name} would start jobs of its own`);
        }
    });

    it("runs with its own execution role, not the API's", () => {
        for (const f of jobs) {
            const role = ofType(program, "aws:iam/role:Role").find((r) => r.state.arn === f.inputs.role);
            assert.ok(role, `${f.name}: role is not the stack's`);
            assert.equal(role.state.name, `home-inventory-jobs-${f.region}`);
            assert.notEqual(f.inputs.role, apiOf(f.region!).inputs.role);
        }
    });

    it("caps how many jobs run at once, below what the region can run", () => {
        for (const f of jobs) {
            const reserved = f.inputs.reservedConcurrentExecutions;
            assert.equal(reserved, 10, f.name);
            assert.equal(apiOf(f.region!).inputs.reservedConcurrentExecutions, undefined, "the API is not capped");
        }
    });

    it("logs to its own /aws/lambda/<name> group, with the API's retention", () => {
        for (const f of jobs) {
            const group = byName(program, "aws:cloudwatch/logGroup:LogGroup", f.inputs.name);
            const apiGroup = byName(program, "aws:cloudwatch/logGroup:LogGroup", apiOf(f.region!).inputs.name);
            assert.equal(group.inputs.name, `/aws/lambda/${f.inputs.name}`);
            assert.equal(group.region, f.region);
            assert.equal(group.inputs.retentionInDays, apiGroup.inputs.retentionInDays);
            assert.equal(f.inputs.loggingConfig.logGroup, group.inputs.name);
        }
    });

    it("retries a failed run twice and drops events older than an hour", () => {
        const configs = ofType(program, "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig");
        assert.equal(configs.length, 2, "only the jobs functions are invoked asynchronously");
        for (const f of jobs) {
            const config = configs.filter((c) => c.inputs.functionName === f.state.name);
            assert.equal(config.length, 1, `${f.name}: no event invoke config`);
            assert.equal(config[0].region, f.region);
            assert.equal(config[0].inputs.maximumRetryAttempts, 2);
            assert.equal(config[0].inputs.maximumEventAgeInSeconds, 3600);
            assert.equal(config[0].inputs.qualifier, undefined, "applies to the function as invoked, unqualified");
        }
    });

    it("has no API Gateway in front, and no resource-based permission but the reminder schedule's", () => {
        const arns = jobs.flatMap((f) => [f.state.arn, f.state.invokeArn, f.state.name]);
        for (const i of ofType(program, "aws:apigatewayv2/integration:Integration")) {
            assert.ok(!arns.includes(i.inputs.integrationUri), `${i.name} fronts a jobs function`);
        }
        const rules = ofType(program, "aws:cloudwatch/eventRule:EventRule").map((r) => r.state.arn);
        for (const p of ofType(program, "aws:lambda/permission:Permission")) {
            const schedule = p.inputs.principal === "events.amazonaws.com" && rules.includes(p.inputs.sourceArn);
            assert.ok(
                schedule || !arns.includes(p.inputs.function),
                `${p.name} lets ${p.inputs.principal} invoke a jobs function`,
            );
        }
        const urls = ofType(program, "aws:lambda/functionUrl:FunctionUrl");
        assert.deepEqual(urls, [], "no function URL");
    });
});
