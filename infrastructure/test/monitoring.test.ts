// CloudWatch alarms and dashboard.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { REMINDER_FAILURE_PHRASES } from "../src/monitoring";
import { byName, LoadedProgram, loadProgram, ofType, RecordedResource } from "./mocks";

const REGIONS = ["us-east-1", "us-east-2"] as const;

describe("monitoring (CloudWatch)", () => {
    let program: LoadedProgram;
    let alarms: RecordedResource[];
    before(async () => {
        program = await loadProgram();
        alarms = ofType(program, "aws:cloudwatch/metricAlarm:MetricAlarm");
    });

    const lambdaAlarm = (region: string, metric: string, fnName = `home-inventory-api-${region}`) => {
        const fn = byName(program, "aws:lambda/function:Function", fnName);
        const found = alarms.filter(
            (a) =>
                a.inputs.namespace === "AWS/Lambda" &&
                a.inputs.metricName === metric &&
                a.inputs.dimensions?.FunctionName === fn.state.name,
        );
        assert.equal(found.length, 1, `${region}: expected one ${metric} alarm of ${fnName}`);
        assert.equal(found[0].region, region, `${metric} alarm of ${region} lives in another region`);
        return found[0].inputs;
    };

    it("alarms on more than 10 Lambda errors in 10 minutes, in each region", () => {
        for (const region of REGIONS) {
            const a = lambdaAlarm(region, "Errors");
            assert.equal(a.statistic, "Sum");
            assert.equal(a.period * a.evaluationPeriods, 600);
            assert.equal(a.threshold, 10);
            assert.equal(a.comparisonOperator, "GreaterThanThreshold");
            assert.equal(a.treatMissingData, "notBreaching");
        }
    });

    it("alarms when an invocation gets close to the 30 s timeout, in each region", () => {
        for (const region of REGIONS) {
            const a = lambdaAlarm(region, "Duration");
            assert.equal(a.statistic, "Maximum");
            assert.ok(a.threshold >= 20000 && a.threshold < 30000, `threshold ${a.threshold}`);
            assert.equal(a.comparisonOperator, "GreaterThanOrEqualToThreshold");
        }
    });

    it("alarms on any failed run of the jobs function, in each region", () => {
        for (const region of REGIONS) {
            const a = lambdaAlarm(region, "Errors", `home-inventory-jobs-${region}`);
            assert.equal(a.name, `home-inventory-jobs-errors-${region}`);
            assert.equal(a.statistic, "Sum");
            assert.equal(a.period * a.evaluationPeriods, 600);
            assert.equal(a.threshold, 0);
            assert.equal(a.comparisonOperator, "GreaterThanThreshold");
            assert.equal(a.treatMissingData, "notBreaching");
        }
    });

    it("alarms when a reminder pass could not mail a digest, from the jobs function's log, in each region", () => {
        const filters = ofType(program, "aws:cloudwatch/logMetricFilter:LogMetricFilter");
        for (const region of REGIONS) {
            const logGroup = ofType(program, "aws:cloudwatch/logGroup:LogGroup").find(
                (g) => g.region === region && g.inputs.name === `/aws/lambda/home-inventory-jobs-${region}`,
            );
            assert.ok(logGroup, `no jobs log group in ${region}`);
            const found = filters.filter((f) => f.region === region);
            assert.equal(found.length, 1, `one metric filter in ${region}`);
            const filter = found[0].inputs;
            assert.equal(filter.logGroupName, logGroup.inputs.name);
            assert.equal(filter.pattern, '?"a reminder digest failed" ?"the reminder pass failed"');
            const metric = filter.metricTransformation;
            const a = alarms.find(
                (x) =>
                    x.region === region &&
                    x.inputs.namespace === metric.namespace &&
                    x.inputs.metricName === metric.name,
            );
            assert.ok(a, `no alarm on ${metric.namespace}/${metric.name} in ${region}`);
            assert.equal(a.inputs.statistic, "Sum");
            assert.equal(a.inputs.threshold, 0);
            assert.equal(a.inputs.comparisonOperator, "GreaterThanThreshold");
            assert.equal(a.inputs.period, 3600, "one pass an hour");
            assert.equal(a.inputs.treatMissingData, "notBreaching");
            const topic = ofType(program, "aws:sns/topic:Topic").find((t) => t.region === region)!;
            assert.deepEqual(a.inputs.alarmActions, [topic.state.arn]);
        }
    });

    it("watches for phrases the backend really logs", () => {
        const root = path.join(__dirname, "..", "..", "api", "src");
        const source = ["reminders/mod.rs", "routes/reminders.rs"]
            .map((f) => fs.readFileSync(path.join(root, f), "utf8"))
            .join("\n");
        for (const phrase of REMINDER_FAILURE_PHRASES) {
            assert.ok(source.includes(`"${phrase}`), `the backend no longer logs "${phrase}"`);
        }
    });

    it("notifies the region's SNS topic", () => {
        for (const region of REGIONS) {
            const topic = ofType(program, "aws:sns/topic:Topic").find((t) => t.region === region);
            assert.ok(topic, `no alarm topic in ${region}`);
            for (const metric of ["Errors", "Duration"]) {
                assert.deepEqual(lambdaAlarm(region, metric).alarmActions, [topic.state.arn]);
            }
            const jobs = lambdaAlarm(region, "Errors", `home-inventory-jobs-${region}`);
            assert.deepEqual(jobs.alarmActions, [topic.state.arn]);
            assert.deepEqual(jobs.okActions, [topic.state.arn]);
        }
    });

    it("alarms when a region fails its health check", () => {
        const checks = ofType(program, "aws:route53/healthCheck:HealthCheck");
        for (const check of checks) {
            const a = alarms.find((x) => x.inputs.dimensions?.HealthCheckId === check.id);
            assert.ok(a, `no alarm for ${check.name}`);
            assert.equal(a.region, "us-east-1", "Route 53 metrics are in us-east-1");
            assert.equal(a.inputs.namespace, "AWS/Route53");
            assert.equal(a.inputs.metricName, "HealthCheckStatus");
            assert.equal(a.inputs.comparisonOperator, "LessThanThreshold");
            assert.equal(a.inputs.threshold, 1);
        }
    });

    it("has the home-inventory-prod dashboard covering both regions", () => {
        const dashboards = ofType(program, "aws:cloudwatch/dashboard:Dashboard");
        assert.equal(dashboards.length, 1);
        assert.equal(dashboards[0].inputs.dashboardName, "home-inventory-prod");
        const body = JSON.parse(dashboards[0].inputs.dashboardBody);
        assert.ok(body.widgets.length >= 4);
        const text = JSON.stringify(body);
        const functions = ofType(program, "aws:lambda/function:Function");
        assert.equal(functions.length, 4, "the API and jobs functions of both regions");
        for (const fn of functions) {
            assert.ok(text.includes(fn.state.name), `dashboard misses ${fn.state.name}`);
        }
        const titles = body.widgets.map((w: any) => w.properties.title);
        assert.ok(titles.some((t: string) => t.startsWith("Jobs")), "no jobs widget");
        // Widgets don't overlap.
        const cells = new Set<string>();
        for (const w of body.widgets) {
            for (let x = w.x; x < w.x + w.width; x++) {
                for (let y = w.y; y < w.y + w.height; y++) {
                    assert.ok(!cells.has(`${x},${y}`), `${w.properties.title} overlaps another widget`);
                    cells.add(`${x},${y}`);
                }
            }
        }
        for (const region of REGIONS) {
            assert.ok(text.includes(`"region":"${region}"`), `dashboard misses ${region}`);
        }
    });
});
