// CloudWatch: alarms for each region's API and jobs function, and one dashboard for the
// whole stack.
//
// Alarms notify an SNS topic in their region (`home-inventory-alarms`); subscribe an
// e-mail address or a chat integration to it (README, "Monitoring").

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ApiDns } from "./cloudfront";
import { JobsFunction, RegionalApi } from "./lambda";
import {
    DASHBOARD_NAME,
    JOBS_TIMEOUT_SECONDS,
    LAMBDA_TIMEOUT_SECONDS,
    PROJECT,
    PRIMARY_REGION,
    RegionContext,
    RegionKey,
    regionalName,
} from "./types";

/** More than this many failed invocations in ERROR_PERIOD_SECONDS raises an alarm. */
export const ERROR_THRESHOLD = 10;
export const ERROR_PERIOD_SECONDS = 600;
/** A single invocation this slow is close to the timeout. */
export const DURATION_THRESHOLD_MS = (LAMBDA_TIMEOUT_SECONDS - 5) * 1000;
export const DURATION_PERIOD_SECONDS = 300;
/** More than this many 5xx answers from API Gateway in API_5XX_PERIOD_SECONDS. */
export const API_5XX_THRESHOLD = 10;
export const API_5XX_PERIOD_SECONDS = 600;
/**
 * Any failed invocation of the jobs function raises an alarm. Its handler answers success
 * when a job fails (the failure is written to the job), so an error is the process
 * failing: a crash, running out of memory or /tmp, or the 15-minute limit; each one is a
 * job cut off. Jobs are few, so unlike the API's there is no noise to filter out.
 */
export const JOBS_ERROR_THRESHOLD = 0;
/**
 * What the backend logs when a reminder pass could not mail someone's digest, or could not
 * run at all (`api/src/reminders/mod.rs`, `api/src/routes/reminders.rs`). Either way the
 * jobs function answers normally, so `Errors` does not see it; a metric filter on its log
 * does. SES refusing mail (the sandbox, a suspended account) shows here first.
 */
export const REMINDER_FAILURE_PHRASES = ["a reminder digest failed", "the reminder pass failed"];
export const REMINDER_FAILURE_PATTERN = REMINDER_FAILURE_PHRASES.map((p) => `?"${p}"`).join(" ");
export const METRIC_NAMESPACE = "HomeInventory";
export const REMINDER_FAILURE_METRIC = "ReminderFailures";
/** A failed digest is tried again by the next hourly pass: one alarm an hour at most. */
export const REMINDER_FAILURE_PERIOD_SECONDS = 3600;

export interface RegionalAlarms {
    topic: aws.sns.Topic;
    errors: aws.cloudwatch.MetricAlarm;
    duration: aws.cloudwatch.MetricAlarm;
    api5xx: aws.cloudwatch.MetricAlarm;
    jobsErrors: aws.cloudwatch.MetricAlarm;
    reminderFailures: aws.cloudwatch.MetricAlarm;
    reminderFailureFilter: aws.cloudwatch.LogMetricFilter;
}

export interface Monitoring {
    alarms: Record<RegionKey, RegionalAlarms>;
    healthAlarms: Record<RegionKey, aws.cloudwatch.MetricAlarm>;
    dashboard: aws.cloudwatch.Dashboard;
}

export function createMonitoring(args: {
    regions: Record<RegionKey, RegionContext>;
    apis: Record<RegionKey, RegionalApi>;
    jobs: Record<RegionKey, JobsFunction>;
    apiDns: ApiDns;
}): Monitoring {
    const { regions, apis, jobs, apiDns } = args;
    const alarms = {} as Record<RegionKey, RegionalAlarms>;
    const healthAlarms = {} as Record<RegionKey, aws.cloudwatch.MetricAlarm>;

    for (const ctx of [regions.east, regions.west]) {
        const opts = { provider: ctx.provider };
        const api = apis[ctx.key];
        const topic = new aws.sns.Topic(regionalName("alarms", ctx), { name: `${PROJECT}-alarms` }, opts);
        const actions = [topic.arn];
        const fnDimensions = { FunctionName: api.function.name };

        const errors = new aws.cloudwatch.MetricAlarm(
            regionalName("api-errors", ctx),
            {
                name: regionalName("api-errors", ctx),
                alarmDescription: `More than ${ERROR_THRESHOLD} API Lambda errors in 10 minutes (${ctx.region})`,
                namespace: "AWS/Lambda",
                metricName: "Errors",
                dimensions: fnDimensions,
                statistic: "Sum",
                period: ERROR_PERIOD_SECONDS,
                evaluationPeriods: 1,
                threshold: ERROR_THRESHOLD,
                comparisonOperator: "GreaterThanThreshold",
                treatMissingData: "notBreaching",
                alarmActions: actions,
                okActions: actions,
            },
            opts,
        );

        const duration = new aws.cloudwatch.MetricAlarm(
            regionalName("api-duration", ctx),
            {
                name: regionalName("api-duration", ctx),
                alarmDescription: `An API invocation took ${DURATION_THRESHOLD_MS / 1000} s or more; the timeout is ${LAMBDA_TIMEOUT_SECONDS} s (${ctx.region})`,
                namespace: "AWS/Lambda",
                metricName: "Duration",
                dimensions: fnDimensions,
                statistic: "Maximum",
                period: DURATION_PERIOD_SECONDS,
                evaluationPeriods: 1,
                threshold: DURATION_THRESHOLD_MS,
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                treatMissingData: "notBreaching",
                alarmActions: actions,
                okActions: actions,
            },
            opts,
        );

        const api5xx = new aws.cloudwatch.MetricAlarm(
            regionalName("api-5xx", ctx),
            {
                name: regionalName("api-5xx", ctx),
                alarmDescription: `More than ${API_5XX_THRESHOLD} 5xx answers from API Gateway in 10 minutes (${ctx.region})`,
                namespace: "AWS/ApiGateway",
                metricName: "5xx",
                dimensions: { ApiId: api.api.id, Stage: "$default" },
                statistic: "Sum",
                period: API_5XX_PERIOD_SECONDS,
                evaluationPeriods: 1,
                threshold: API_5XX_THRESHOLD,
                comparisonOperator: "GreaterThanThreshold",
                treatMissingData: "notBreaching",
                alarmActions: actions,
                okActions: actions,
            },
            opts,
        );
        const jobsErrors = new aws.cloudwatch.MetricAlarm(
            regionalName("jobs-errors", ctx),
            {
                name: regionalName("jobs-errors", ctx),
                alarmDescription: `The jobs function failed (crash, out of memory or storage, or the ${JOBS_TIMEOUT_SECONDS / 60}-minute timeout): a job was cut off (${ctx.region})`,
                namespace: "AWS/Lambda",
                metricName: "Errors",
                dimensions: { FunctionName: jobs[ctx.key].function.name },
                statistic: "Sum",
                period: ERROR_PERIOD_SECONDS,
                evaluationPeriods: 1,
                threshold: JOBS_ERROR_THRESHOLD,
                comparisonOperator: "GreaterThanThreshold",
                treatMissingData: "notBreaching",
                alarmActions: actions,
                okActions: actions,
            },
            opts,
        );
        const reminderFailureFilter = new aws.cloudwatch.LogMetricFilter(
            regionalName("reminder-failures", ctx),
            {
                name: regionalName("reminder-failures", ctx),
                logGroupName: jobs[ctx.key].logGroup.name,
                pattern: REMINDER_FAILURE_PATTERN,
                metricTransformation: {
                    namespace: METRIC_NAMESPACE,
                    name: REMINDER_FAILURE_METRIC,
                    value: "1",
                },
            },
            opts,
        );
        const reminderFailures = new aws.cloudwatch.MetricAlarm(
            regionalName("reminder-failures", ctx),
            {
                name: regionalName("reminder-failures", ctx),
                alarmDescription: `A reminder pass could not mail a digest, or could not run; the next hourly pass tries again (${ctx.region})`,
                namespace: METRIC_NAMESPACE,
                metricName: REMINDER_FAILURE_METRIC,
                statistic: "Sum",
                period: REMINDER_FAILURE_PERIOD_SECONDS,
                evaluationPeriods: 1,
                threshold: 0,
                comparisonOperator: "GreaterThanThreshold",
                treatMissingData: "notBreaching",
                alarmActions: actions,
                okActions: actions,
            },
            { ...opts, dependsOn: [reminderFailureFilter] },
        );
        alarms[ctx.key] = {
            topic,
            errors,
            duration,
            api5xx,
            jobsErrors,
            reminderFailures,
            reminderFailureFilter,
        };
    }

    // Route 53 health check metrics exist only in us-east-1.
    for (const ctx of [regions.east, regions.west]) {
        healthAlarms[ctx.key] = new aws.cloudwatch.MetricAlarm(
            regionalName("api-unhealthy", ctx),
            {
                name: regionalName("api-unhealthy", ctx),
                alarmDescription: `The ${ctx.region} API fails its health check; traffic is served by the other region`,
                namespace: "AWS/Route53",
                metricName: "HealthCheckStatus",
                dimensions: { HealthCheckId: apiDns.healthChecks[ctx.key].id },
                statistic: "Minimum",
                period: 60,
                evaluationPeriods: 3,
                threshold: 1,
                comparisonOperator: "LessThanThreshold",
                treatMissingData: "breaching",
                alarmActions: [alarms.east.topic.arn],
                okActions: [alarms.east.topic.arn],
            },
            { provider: regions.east.provider },
        );
    }

    const dashboard = new aws.cloudwatch.Dashboard(
        DASHBOARD_NAME,
        {
            dashboardName: DASHBOARD_NAME,
            dashboardBody: dashboardBody({
                regions,
                functionNames: { east: apis.east.function.name, west: apis.west.function.name },
                jobsFunctionNames: { east: jobs.east.function.name, west: jobs.west.function.name },
                apiIds: { east: apis.east.api.id, west: apis.west.api.id },
                healthCheckIds: { east: apiDns.healthChecks.east.id, west: apiDns.healthChecks.west.id },
            }),
        },
        { provider: regions.east.provider },
    );

    return { alarms, healthAlarms, dashboard };
}

type PerRegion<T> = Record<RegionKey, T>;

function dashboardBody(args: {
    regions: PerRegion<RegionContext>;
    functionNames: PerRegion<pulumi.Output<string>>;
    jobsFunctionNames: PerRegion<pulumi.Output<string>>;
    apiIds: PerRegion<pulumi.Output<string>>;
    healthCheckIds: PerRegion<pulumi.Output<string>>;
}): pulumi.Output<string> {
    return pulumi
        .all([
            args.functionNames.east,
            args.functionNames.west,
            args.jobsFunctionNames.east,
            args.jobsFunctionNames.west,
            args.apiIds.east,
            args.apiIds.west,
            args.healthCheckIds.east,
            args.healthCheckIds.west,
        ])
        .apply(([fnEast, fnWest, jobsEast, jobsWest, apiEast, apiWest, hcEast, hcWest]) => {
            const r = { east: args.regions.east.region, west: args.regions.west.region };
            const fn = { east: fnEast, west: fnWest };
            const jobsFn = { east: jobsEast, west: jobsWest };
            const api = { east: apiEast, west: apiWest };
            const lambdaMetric = (name: string, stat: string, key: RegionKey) => [
                "AWS/Lambda",
                name,
                "FunctionName",
                fn[key],
                { region: r[key], stat, label: `${name} ${r[key]}` },
            ];
            const jobsMetric = (name: string, stat: string, key: RegionKey) => [
                "AWS/Lambda",
                name,
                "FunctionName",
                jobsFn[key],
                { region: r[key], stat, label: `${name} ${r[key]}` },
            ];
            const apiMetric = (name: string, stat: string, key: RegionKey) => [
                "AWS/ApiGateway",
                name,
                "ApiId",
                api[key],
                "Stage",
                "$default",
                { region: r[key], stat, label: `${name} ${r[key]}` },
            ];
            const both = (f: (key: RegionKey) => unknown[]) => [f("east"), f("west")];
            const widget = (
                x: number,
                y: number,
                title: string,
                metrics: unknown[][],
                extra: Record<string, unknown> = {},
            ) => ({
                type: "metric",
                x,
                y,
                width: 12,
                height: 6,
                properties: { title, metrics, view: "timeSeries", region: PRIMARY_REGION, period: 300, ...extra },
            });
            return JSON.stringify({
                widgets: [
                    widget(0, 0, "API invocations", both((k) => lambdaMetric("Invocations", "Sum", k))),
                    widget(12, 0, "API errors", both((k) => lambdaMetric("Errors", "Sum", k))),
                    widget(0, 6, "API duration (max, ms)", both((k) => lambdaMetric("Duration", "Maximum", k)), {
                        annotations: {
                            horizontal: [{ label: "timeout", value: LAMBDA_TIMEOUT_SECONDS * 1000 }],
                        },
                    }),
                    widget(12, 6, "API throttles", both((k) => lambdaMetric("Throttles", "Sum", k))),
                    widget(0, 12, "HTTP 5xx", both((k) => apiMetric("5xx", "Sum", k))),
                    widget(12, 12, "HTTP latency (p95, ms)", both((k) => apiMetric("Latency", "p95", k))),
                    widget(0, 18, "Region health (1 = healthy)", [
                        ["AWS/Route53", "HealthCheckStatus", "HealthCheckId", hcEast, { region: PRIMARY_REGION, stat: "Minimum", label: r.east }],
                        ["AWS/Route53", "HealthCheckStatus", "HealthCheckId", hcWest, { region: PRIMARY_REGION, stat: "Minimum", label: r.west }],
                    ], { period: 60 }),
                    widget(0, 24, "Jobs invocations and errors", [
                        ...both((k) => jobsMetric("Invocations", "Sum", k)),
                        ...both((k) => jobsMetric("Errors", "Sum", k)),
                    ]),
                    widget(12, 24, "Jobs duration (max, ms)", both((k) => jobsMetric("Duration", "Maximum", k)), {
                        annotations: {
                            horizontal: [{ label: "timeout", value: JOBS_TIMEOUT_SECONDS * 1000 }],
                        },
                    }),
                    // Throttled: over the reserved concurrency, Lambda tries the event again
                    // later; dropped: retries used up, or not run within the event's maximum age.
                    widget(0, 30, "Jobs throttled and dropped events", [
                        ...both((k) => jobsMetric("Throttles", "Sum", k)),
                        ...both((k) => jobsMetric("AsyncEventsDropped", "Sum", k)),
                    ]),
                ],
            });
        });
}
