// Runs the Pulumi program against in-memory mocks: no Pulumi CLI, no AWS account.
//
// Every resource the program registers is recorded with its type, name, inputs and the
// region of its provider; tests assert on those records and on the stack outputs.

import * as pulumi from "@pulumi/pulumi";

export const PROJECT_NAME = "home-inventory";
export const STACK_NAME = "prod";
export const ACCOUNT_ID = "123456789012";
export const ZONE_ID = "Z01234567HOMEINV";
export const CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2";

/** Stack configuration used by the tests (distinctive values, so they can be traced). */
export const TEST_CONFIG = {
    domainName: "inventory.example.org",
    githubRepo: "acme-family/home-inventory",
    googleClientId: "test-google-client-id.apps.googleusercontent.com",
    googleClientSecret: "test-google-client-secret",
    anthropicApiKey: "test-anthropic-api-key",
    originVerifySecret: "test-origin-verify-secret-0123456789abcdef",
} as const;

export const SECRET_KEYS = ["googleClientId", "googleClientSecret", "anthropicApiKey", "originVerifySecret"] as const;

export interface RecordedResource {
    type: string;
    name: string;
    inputs: Record<string, any>;
    /** Region of the provider the resource was created with, or undefined for the default provider. */
    region?: string;
    /** Raw provider reference ("urn::id"), undefined when the default provider was used. */
    provider?: string;
    id: string;
    state: Record<string, any>;
}

export interface RecordedCall {
    token: string;
    inputs: Record<string, any>;
    provider?: string;
}

/** Deterministic lowercase identifier, shaped like a DSQL cluster identifier. */
function fakeIdentifier(seed: string, length = 26): string {
    let h = 2166136261;
    for (let i = 0; i < seed.length; i++) {
        h = Math.imul(h ^ seed.charCodeAt(i), 16777619) >>> 0;
    }
    let out = "";
    while (out.length < length) {
        h = Math.imul(h ^ (h >>> 15), 2246822519) >>> 0;
        h = (h ^ (h >>> 13)) >>> 0;
        out += "abcdefghijklmnopqrstuvwxyz0123456789"[h % 36];
    }
    return out;
}

class RecordingMocks implements pulumi.runtime.Mocks {
    readonly resources: RecordedResource[] = [];
    readonly calls: RecordedCall[] = [];
    private readonly providerRegions = new Map<string, string>();

    private regionOf(provider?: string): string | undefined {
        if (!provider) {
            return undefined;
        }
        const id = provider.substring(provider.lastIndexOf("::") + 2);
        return this.providerRegions.get(id);
    }

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, any> } {
        const inputs = args.inputs ?? {};
        if (args.type === "pulumi:providers:aws") {
            const id = `${args.name}-provider-id`;
            this.providerRegions.set(id, inputs.region);
            this.resources.push({ type: args.type, name: args.name, inputs, id, state: inputs, region: inputs.region });
            return { id, state: inputs };
        }
        const region = this.regionOf(args.provider) ?? "us-east-1";
        const { id, state } = this.computed(args.type, args.name, inputs, region);
        const full = { ...inputs, ...state };
        this.resources.push({
            type: args.type,
            name: args.name,
            inputs,
            region: this.regionOf(args.provider),
            provider: args.provider,
            id,
            state: full,
        });
        return { id, state: full };
    }

    /** Attributes AWS would compute, shaped like the real ones. */
    private computed(
        type: string,
        name: string,
        inputs: Record<string, any>,
        region: string,
    ): { id: string; state: Record<string, any> } {
        const acct = ACCOUNT_ID;
        switch (type) {
            case "aws:dsql/cluster:Cluster": {
                const identifier = fakeIdentifier(name);
                return {
                    id: identifier,
                    state: { identifier, arn: `arn:aws:dsql:${region}:${acct}:cluster/${identifier}` },
                };
            }
            case "aws:s3/bucket:Bucket": {
                const bucket = inputs.bucket ?? name;
                return {
                    id: bucket,
                    state: {
                        bucket,
                        arn: `arn:aws:s3:::${bucket}`,
                        bucketDomainName: `${bucket}.s3.amazonaws.com`,
                        bucketRegionalDomainName: `${bucket}.s3.${region}.amazonaws.com`,
                        region,
                    },
                };
            }
            case "aws:iam/role:Role": {
                const roleName = inputs.name ?? name;
                return { id: roleName, state: { name: roleName, arn: `arn:aws:iam::${acct}:role/${roleName}` } };
            }
            case "aws:iam/openIdConnectProvider:OpenIdConnectProvider": {
                const host = String(inputs.url).replace(/^https:\/\//, "");
                const arn = `arn:aws:iam::${acct}:oidc-provider/${host}`;
                return { id: arn, state: { arn } };
            }
            case "aws:lambda/function:Function": {
                const fnName = inputs.name ?? name;
                const arn = `arn:aws:lambda:${region}:${acct}:function:${fnName}`;
                return {
                    id: fnName,
                    state: {
                        name: fnName,
                        arn,
                        invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${arn}/invocations`,
                    },
                };
            }
            case "aws:apigatewayv2/api:Api": {
                const apiId = fakeIdentifier(name, 10);
                return {
                    id: apiId,
                    state: {
                        arn: `arn:aws:apigateway:${region}::/apis/${apiId}`,
                        apiEndpoint: `https://${apiId}.execute-api.${region}.amazonaws.com`,
                        executionArn: `arn:aws:execute-api:${region}:${acct}:${apiId}`,
                    },
                };
            }
            case "aws:apigatewayv2/stage:Stage":
                return { id: inputs.name, state: {} };
            case "aws:apigatewayv2/domainName:DomainName":
                return {
                    id: inputs.domainName,
                    state: {
                        domainNameConfiguration: {
                            ...inputs.domainNameConfiguration,
                            targetDomainName: `d-${fakeIdentifier(name, 10)}.execute-api.${region}.amazonaws.com`,
                            hostedZoneId: region === "us-east-1" ? "Z1UJRXOUMOOFQ8" : "ZOJJZC49E0EPZ",
                        },
                    },
                };
            case "aws:acm/certificate:Certificate": {
                const names: string[] = [inputs.domainName, ...(inputs.subjectAlternativeNames ?? [])];
                return {
                    id: `${name}-id`,
                    state: {
                        arn: `arn:aws:acm:${region}:${acct}:certificate/${fakeIdentifier(name, 12)}`,
                        domainValidationOptions: names.map((d) => ({
                            domainName: d,
                            resourceRecordName: `_${fakeIdentifier(d, 8)}.${d}.`,
                            resourceRecordType: "CNAME",
                            resourceRecordValue: `_${fakeIdentifier(d + "v", 8)}.acm-validations.aws.`,
                        })),
                    },
                };
            }
            case "aws:acm/certificateValidation:CertificateValidation":
                return { id: `${name}-id`, state: { certificateArn: inputs.certificateArn } };
            case "aws:route53/record:Record":
                return { id: `${ZONE_ID}_${inputs.name}_${inputs.type}`, state: { fqdn: String(inputs.name).replace(/\.$/, "") } };
            case "aws:sesv2/emailIdentity:EmailIdentity":
                return {
                    id: inputs.emailIdentity,
                    state: {
                        arn: `arn:aws:ses:${region}:${acct}:identity/${inputs.emailIdentity}`,
                        dkimSigningAttributes: {
                            tokens: [0, 1, 2].map((i) => fakeIdentifier(`${name}-${i}`, 32)),
                        },
                    },
                };
            case "aws:cloudwatch/eventRule:EventRule":
                return { id: inputs.name, state: { arn: `arn:aws:events:${region}:${acct}:rule/${inputs.name}` } };
            case "aws:route53/healthCheck:HealthCheck":
                return { id: `hc-${fakeIdentifier(name, 12)}`, state: {} };
            case "aws:cloudfront/distribution:Distribution": {
                const id = "E1HOMEINVENTORY";
                return {
                    id,
                    state: {
                        arn: `arn:aws:cloudfront::${acct}:distribution/${id}`,
                        domainName: "d111111abcdef8.cloudfront.net",
                        hostedZoneId: CLOUDFRONT_ZONE_ID,
                    },
                };
            }
            case "aws:cloudfront/originAccessControl:OriginAccessControl":
                return { id: "E2OACHOMEINV", state: {} };
            case "aws:cloudfront/function:Function":
                return { id: inputs.name, state: { arn: `arn:aws:cloudfront::${acct}:function/${inputs.name}` } };
            case "aws:sns/topic:Topic":
                return { id: `${name}-id`, state: { arn: `arn:aws:sns:${region}:${acct}:${inputs.name ?? name}` } };
            case "aws:cloudwatch/logGroup:LogGroup":
                return {
                    id: inputs.name ?? name,
                    state: { arn: `arn:aws:logs:${region}:${acct}:log-group:${inputs.name ?? name}` },
                };
            default:
                return { id: `${name}-id`, state: { arn: `arn:aws:mock:${region}:${acct}:${name}` } };
        }
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
        this.calls.push({ token: args.token, inputs: args.inputs, provider: args.provider });
        switch (args.token) {
            case "aws:index/getCallerIdentity:getCallerIdentity":
                return {
                    accountId: ACCOUNT_ID,
                    arn: `arn:aws:iam::${ACCOUNT_ID}:user/deployer`,
                    userId: "AIDAEXAMPLE",
                    id: ACCOUNT_ID,
                };
            case "aws:route53/getZone:getZone":
                return { ...args.inputs, zoneId: ZONE_ID, id: ZONE_ID, name: args.inputs.name, arn: `arn:aws:route53:::hostedzone/${ZONE_ID}` };
            default:
                throw new Error(`unexpected call in the program: ${args.token}`);
        }
    }
}

export interface LoadedProgram {
    resources: RecordedResource[];
    calls: RecordedCall[];
    /** Every exported stack output, resolved. */
    outputs: Record<string, unknown>;
    /** Which stack outputs are secret. */
    secretOutputs: Set<string>;
}

function resolve<T>(value: pulumi.Input<T>): Promise<{ value: T; secret: boolean }> {
    const out = pulumi.output(value);
    return new Promise((done) => {
        out.apply((v) => {
            const secret = (out as any).isSecret as Promise<boolean> | undefined;
            (secret ?? Promise.resolve(false)).then((s) => done({ value: v as T, secret: s }));
            return v;
        });
    });
}

/** Waits until the program stops registering resources. */
async function settle(mocks: RecordingMocks): Promise<void> {
    let last = -1;
    let stable = 0;
    for (let i = 0; i < 500 && stable < 10; i++) {
        await new Promise((r) => setTimeout(r, 10));
        stable = mocks.resources.length === last ? stable + 1 : 0;
        last = mocks.resources.length;
    }
}

let loaded: Promise<LoadedProgram> | undefined;

/** Runs ../index.ts once under mocks and returns what it registered. */
export function loadProgram(): Promise<LoadedProgram> {
    if (!loaded) {
        loaded = (async () => {
            const mocks = new RecordingMocks();
            const config: Record<string, string> = {};
            for (const [key, value] of Object.entries(TEST_CONFIG)) {
                config[`${PROJECT_NAME}:${key}`] = value;
            }
            pulumi.runtime.setAllConfig(
                config,
                SECRET_KEYS.map((k) => `${PROJECT_NAME}:${k}`),
            );
            await pulumi.runtime.setMocks(mocks, PROJECT_NAME, STACK_NAME, false);
            const program: Record<string, unknown> = await import("../index");
            const outputs: Record<string, unknown> = {};
            const secretOutputs = new Set<string>();
            for (const [key, value] of Object.entries(program)) {
                const r = await resolve(value as pulumi.Input<unknown>);
                outputs[key] = r.value;
                if (r.secret) {
                    secretOutputs.add(key);
                }
            }
            await settle(mocks);
            return { resources: mocks.resources, calls: mocks.calls, outputs, secretOutputs };
        })();
    }
    return loaded;
}

/** All recorded resources of a type. */
export function ofType(program: LoadedProgram, type: string): RecordedResource[] {
    return program.resources.filter((r) => r.type === type);
}

/** The one recorded resource of a type and name; fails if missing. */
export function byName(program: LoadedProgram, type: string, name: string): RecordedResource {
    const found = program.resources.find((r) => r.type === type && r.name === name);
    if (!found) {
        const names = ofType(program, type).map((r) => r.name);
        throw new Error(`no ${type} named ${name}; have: ${names.join(", ")}`);
    }
    return found;
}

/** Pulumi's marker of a secret value in serialized inputs. */
export const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Whether a recorded input value is marked secret. */
export function isSecret(value: any): boolean {
    return !!value && typeof value === "object" && value[SECRET_SIG] !== undefined;
}

/** A recorded input value with every secret marker removed (the plain values inside). */
export function reveal<T = any>(value: any): T {
    if (isSecret(value)) {
        return reveal(value.value);
    }
    if (Array.isArray(value)) {
        return value.map((v) => reveal(v)) as T;
    }
    if (value && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reveal(v)])) as T;
    }
    return value;
}

/** Parses a policy document given to IAM or S3 as a JSON string. */
export function policyOf(resource: RecordedResource, field = "policy"): any {
    const doc = resource.inputs[field];
    return typeof doc === "string" ? JSON.parse(doc) : doc;
}
