// Configuration, outputs and providers of the whole stack.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "../src/types";
import {
    ACCOUNT_ID,
    LoadedProgram,
    loadProgram,
    ofType,
    PROJECT_NAME,
    SECRET_KEYS,
    TEST_CONFIG,
    ZONE_ID,
} from "./mocks";

const REQUIRED_OUTPUTS = [
    "websiteUrl",
    "githubActionsRoleArn",
    "apiEndpointEast",
    "apiEndpointWest",
    "dsqlEndpointEast",
    "dsqlEndpointWest",
    "lambdaFunctionNameEast",
    "lambdaFunctionNameWest",
    "frontendBucketName",
    "cloudFrontDistributionId",
];

const CONFIG_KEYS = [
    "domainName",
    "githubRepo",
    "googleClientId",
    "googleClientSecret",
    "anthropicApiKey",
    "originVerifySecret",
];

/** Keys with a default in Pulumi.yaml. */
const OPTIONAL_CONFIG_KEYS = ["trustCloudFrontHeaders", "mailFrom"];

/** A stand-in for pulumi.Config holding the given values. */
function fakeConfig(values: Record<string, string>): pulumi.Config {
    const get = (key: string): string => {
        if (!(key in values)) {
            throw new Error(`Missing required configuration variable '${PROJECT_NAME}:${key}'`);
        }
        return values[key];
    };
    return {
        require: get,
        requireSecret: (key: string) => pulumi.secret(get(key)),
        get: (key: string) => values[key],
        getBoolean: (key: string) => (key in values ? values[key] === "true" : undefined),
    } as unknown as pulumi.Config;
}

describe("stack", () => {
    let program: LoadedProgram;
    before(async () => {
        program = await loadProgram();
    });

    describe("configuration", () => {
        it("Pulumi.yaml declares exactly the config keys, under the project name", () => {
            const doc = yaml.load(fs.readFileSync(path.join(__dirname, "..", "Pulumi.yaml"), "utf8")) as any;
            assert.equal(doc.name, PROJECT_NAME);
            assert.equal(doc.runtime.name, "nodejs");
            assert.deepEqual(Object.keys(doc.config).sort(), [...CONFIG_KEYS, ...OPTIONAL_CONFIG_KEYS].sort());
            for (const key of CONFIG_KEYS) {
                assert.equal(doc.config[key].default, undefined, `${key} is required and has no default`);
            }
            assert.deepEqual(doc.config.trustCloudFrontHeaders, {
                type: "boolean",
                default: true,
                description: doc.config.trustCloudFrontHeaders.description,
            });
        });

        it("requires every config key", () => {
            const full: Record<string, string> = { ...TEST_CONFIG };
            assert.doesNotThrow(() => loadConfig(fakeConfig(full)));
            for (const key of CONFIG_KEYS) {
                const partial = { ...full };
                delete partial[key];
                assert.throws(() => loadConfig(fakeConfig(partial)), new RegExp(key), `${key} should be required`);
            }
        });

        it("reads the secrets as secrets", async () => {
            const config = loadConfig(fakeConfig({ ...TEST_CONFIG }));
            for (const key of SECRET_KEYS) {
                assert.equal(await (config[key] as any).isSecret, true, `${key} should be secret`);
            }
        });

        it("refuses a short or header-unsafe origin-verify secret", async () => {
            const valueOf = (o: pulumi.Output<string>) => (o as any).promise() as Promise<string>;
            const ok = loadConfig(fakeConfig({ ...TEST_CONFIG }));
            assert.equal(await valueOf(ok.originVerifySecret), TEST_CONFIG.originVerifySecret);
            for (const bad of ["short", "x".repeat(31), `${"a".repeat(40)} b`, `${"a".repeat(40)}\n`, "é".repeat(40)]) {
                const config = loadConfig(fakeConfig({ ...TEST_CONFIG, originVerifySecret: bad }));
                await assert.rejects(valueOf(config.originVerifySecret), /originVerifySecret/, JSON.stringify(bad));
            }
        });

        it("sends reminder mail from the site's domain, and refuses a sender elsewhere", () => {
            const domain = TEST_CONFIG.domainName;
            assert.equal(loadConfig(fakeConfig({ ...TEST_CONFIG })).mailFrom, `Home Inventory <reminders@${domain}>`);
            assert.equal(loadConfig(fakeConfig({ ...TEST_CONFIG, mailFrom: "" })).mailFrom, `Home Inventory <reminders@${domain}>`);
            const own = `Our House <house@mail.${domain}>`;
            assert.equal(loadConfig(fakeConfig({ ...TEST_CONFIG, mailFrom: own })).mailFrom, own);
            for (const bad of ["reminders@gmail.com", `Us <us@evil${domain}>`, "nobody"]) {
                assert.throws(() => loadConfig(fakeConfig({ ...TEST_CONFIG, mailFrom: bad })), /mailFrom/, bad);
            }
        });

        it("rejects a malformed domain name or repository", () => {
            assert.throws(() => loadConfig(fakeConfig({ ...TEST_CONFIG, domainName: "https://example.com" })), /domainName/);
            assert.throws(() => loadConfig(fakeConfig({ ...TEST_CONFIG, githubRepo: "home-inventory" })), /githubRepo/);
        });

        it("uses every config value somewhere in the stack", () => {
            const everything = JSON.stringify(program.resources.map((r) => r.inputs));
            for (const key of CONFIG_KEYS) {
                const value = TEST_CONFIG[key as keyof typeof TEST_CONFIG];
                assert.ok(everything.includes(value), `the value of ${key} is not used by any resource`);
            }
        });
    });

    describe("outputs", () => {
        it("exports every output of the deployment guide", () => {
            for (const name of REQUIRED_OUTPUTS) {
                assert.ok(name in program.outputs, `missing output ${name}`);
                assert.equal(typeof program.outputs[name], "string", `${name} should be a string`);
                assert.notEqual(program.outputs[name], "", `${name} is empty`);
            }
        });

        it("has the expected values", () => {
            const o = program.outputs;
            assert.equal(o.websiteUrl, `https://${TEST_CONFIG.domainName}`);
            assert.equal(o.githubActionsRoleArn, `arn:aws:iam::${ACCOUNT_ID}:role/home-inventory-github-actions`);
            assert.match(o.apiEndpointEast as string, /^https:\/\/[a-z0-9]+\.execute-api\.us-east-1\.amazonaws\.com$/);
            assert.match(o.apiEndpointWest as string, /^https:\/\/[a-z0-9]+\.execute-api\.us-east-2\.amazonaws\.com$/);
            assert.match(o.dsqlEndpointEast as string, /^[a-z0-9]{26}\.dsql\.us-east-1\.on\.aws$/);
            assert.match(o.dsqlEndpointWest as string, /^[a-z0-9]{26}\.dsql\.us-east-2\.on\.aws$/);
            assert.notEqual(String(o.dsqlEndpointEast).split(".")[0], String(o.dsqlEndpointWest).split(".")[0]);
            assert.equal(o.lambdaFunctionNameEast, "home-inventory-api-us-east-1");
            assert.equal(o.lambdaFunctionNameWest, "home-inventory-api-us-east-2");
            assert.equal(o.frontendBucketName, `home-inventory-frontend-${ACCOUNT_ID}`);
            assert.equal(o.cloudFrontDistributionId, "E1HOMEINVENTORY");
        });

        it("exports the Lambda role ARNs, API and jobs, that migrate maps to the database role", () => {
            const o = program.outputs;
            assert.equal(o.lambdaRoleArnEast, `arn:aws:iam::${ACCOUNT_ID}:role/home-inventory-api-us-east-1`);
            assert.equal(o.lambdaRoleArnWest, `arn:aws:iam::${ACCOUNT_ID}:role/home-inventory-api-us-east-2`);
            assert.equal(o.jobsRoleArnEast, `arn:aws:iam::${ACCOUNT_ID}:role/home-inventory-jobs-us-east-1`);
            assert.equal(o.jobsRoleArnWest, `arn:aws:iam::${ACCOUNT_ID}:role/home-inventory-jobs-us-east-2`);
            assert.equal(
                o.dsqlAppRoleArns,
                `${o.lambdaRoleArnEast},${o.lambdaRoleArnWest},${o.jobsRoleArnEast},${o.jobsRoleArnWest}`,
            );
            // Every role a function runs with can log in as `app`.
            const fnRoles = ofType(program, "aws:lambda/function:Function").map((f) => f.inputs.role).sort();
            assert.deepEqual(String(o.dsqlAppRoleArns).split(",").sort(), fnRoles);
        });

        it("exports the jobs function names", () => {
            assert.equal(program.outputs.jobsFunctionNameEast, "home-inventory-jobs-us-east-1");
            assert.equal(program.outputs.jobsFunctionNameWest, "home-inventory-jobs-us-east-2");
        });

        it("never exposes a secret in an output", () => {
            const all = JSON.stringify(program.outputs);
            for (const key of SECRET_KEYS) {
                assert.ok(!all.includes(TEST_CONFIG[key]), `output leaks ${key}`);
            }
        });
    });

    describe("providers", () => {
        it("has one explicit provider per serving region", () => {
            const regions = ofType(program, "pulumi:providers:aws").map((p) => p.inputs.region).sort();
            assert.deepEqual(regions, ["us-east-1", "us-east-2"]);
        });

        it("creates every resource through an explicit provider", () => {
            const implicit = program.resources
                .filter((r) => !r.type.startsWith("pulumi:providers:"))
                .filter((r) => r.region === undefined)
                .map((r) => `${r.type} ${r.name}`);
            assert.deepEqual(implicit, []);
        });

        it("looks up the hosted zone by the domain name", () => {
            const lookups = program.calls.filter((c) => c.token === "aws:route53/getZone:getZone");
            assert.equal(lookups.length, 1);
            assert.equal(lookups[0].inputs.name, TEST_CONFIG.domainName);
            assert.equal(lookups[0].inputs.privateZone, false);
            const records = ofType(program, "aws:route53/record:Record");
            assert.ok(records.length > 0);
            for (const r of records) {
                assert.equal(r.inputs.zoneId, ZONE_ID, `${r.name} is not in the site's zone`);
            }
        });
    });
});
