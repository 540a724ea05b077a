// The API in one region: the Lambda function (the `home-inventory-backend` binary, ARM64)
// behind an API Gateway HTTP API, with a custom domain for latency-based routing; and the
// region's jobs function, the same binary, which the API invokes asynchronously to run
// background jobs (imports, exports, backups, restores) past API Gateway's 30 s; the
// hourly reminder pass, run by the jobs function on an EventBridge schedule; and the SES
// identity reminder mail is sent from.

import * as fs from "node:fs";
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
    AppConfig,
    DB_APP_ROLE,
    JOBS_EPHEMERAL_STORAGE_MB,
    JOBS_MAX_EVENT_AGE_SECONDS,
    JOBS_MAX_RETRY_ATTEMPTS,
    JOBS_MEMORY_MB,
    JOBS_RESERVED_CONCURRENCY,
    JOBS_TIMEOUT_SECONDS,
    LAMBDA_MEMORY_MB,
    LAMBDA_TIMEOUT_SECONDS,
    LAMBDA_ZIP_PATH,
    LOG_RETENTION_DAYS,
    RegionContext,
    regionalName,
    REMINDER_SCHEDULE,
    TRUSTED_PROXY_CLOUDFRONT,
} from "./types";

/** Name of the API function in a region (also the suffix of its log group). */
export function apiFunctionName(ctx: RegionContext): string {
    return regionalName("api", ctx);
}

/** Name of the jobs function in a region (also the suffix of its log group). */
export function jobsFunctionName(ctx: RegionContext): string {
    return regionalName("jobs", ctx);
}

/**
 * The process environment of the API, and all of the jobs function's (the API function
 * also gets JOBS_FUNCTION). Names and meanings are those of the backend's configuration
 * table (DESIGN.md); AWS_REGION is set by Lambda itself.
 *
 * The secrets come from the stack's encrypted config and are passed as plain environment
 * variables: Lambda encrypts them at rest, the stack state keeps them encrypted with the
 * stack's KMS key, and no secret store call is needed at cold start.
 *
 * TRUSTED_PROXY and ORIGIN_VERIFY_SECRET: the client address comes from the
 * x-viewer-address header that CloudFront sets, and only requests carrying CloudFront's
 * X-Origin-Verify secret are served (see VIEWER_ADDRESS_HEADER in types.ts).
 * Both are left out while `trustCloudFrontHeaders` is false (first rollout only).
 */
export function apiEnvironment(args: {
    config: AppConfig;
    dsqlEndpoint: pulumi.Input<string>;
    photoBucket: pulumi.Input<string>;
    /** The region whose SES identity sends reminder mail (SES_REGION); none: no mail. */
    sesRegion?: string;
}): Record<string, pulumi.Input<string>> {
    const { config } = args;
    return {
        ...(args.sesRegion ? { SES_REGION: args.sesRegion, MAIL_FROM: config.mailFrom } : {}),
        DATABASE_URL: pulumi.interpolate`dsql://${DB_APP_ROLE}@${args.dsqlEndpoint}`,
        PUBLIC_URL: `https://${config.domainName}`,
        PHOTOS_BUCKET: args.photoBucket,
        GOOGLE_CLIENT_ID: config.googleClientId,
        GOOGLE_CLIENT_SECRET: config.googleClientSecret,
        ANTHROPIC_API_KEY: config.anthropicApiKey,
        LOCAL_AUTH: "true",
        RUST_LOG: "info",
        ...(config.trustCloudFrontHeaders
            ? { TRUSTED_PROXY: TRUSTED_PROXY_CLOUDFRONT, ORIGIN_VERIFY_SECRET: config.originVerifySecret }
            : {}),
    };
}

/**
 * One JSON line per request in the stage's access log. The route key (`ANY /api/{proxy+}`)
 * stands in for the path: paths can carry bearer secrets (invitation codes in
 * /api/v1/invites/<code>, the private calendar feed /api/v1/calendar/<secret>.ics), and an
 * access log would keep them in clear for its whole retention period. The API's own log
 * (the function's log group) records the path, with such secrets redacted.
 *
 * For requests through CloudFront, `ip` is the edge server that made the request, not the
 * viewer: the viewer's address reaches the API in the x-viewer-address header, and an
 * HTTP API access log is made of $context variables only.
 */
export const ACCESS_LOG_FORMAT = JSON.stringify({
    requestId: "$context.requestId",
    ip: "$context.identity.sourceIp",
    requestTime: "$context.requestTime",
    method: "$context.httpMethod",
    routeKey: "$context.routeKey",
    status: "$context.status",
    latencyMs: "$context.responseLatency",
    integrationLatency: "$context.integrationLatency",
    integrationError: "$context.integrationErrorMessage",
});

export interface RegionalApi {
    logGroup: aws.cloudwatch.LogGroup;
    function: aws.lambda.Function;
    api: aws.apigatewayv2.Api;
    stage: aws.apigatewayv2.Stage;
    domainName: aws.apigatewayv2.DomainName;
    /** https://<api id>.execute-api.<region>.amazonaws.com */
    endpoint: pulumi.Output<string>;
    /** <api id>.execute-api.<region>.amazonaws.com, probed by the health check. */
    endpointHost: pulumi.Output<string>;
}

export interface JobsFunction {
    logGroup: aws.cloudwatch.LogGroup;
    function: aws.lambda.Function;
    eventInvokeConfig: aws.lambda.FunctionEventInvokeConfig;
}

/**
 * The jobs function of one region: the API's zip, handler and environment, with Lambda's
 * longest timeout and a 10 GB /tmp. No API Gateway fronts it: the API's execution role is
 * the one role given lambda:InvokeFunction on it, and the API invokes it asynchronously
 * with an event for `POST /api/internal/jobs/{id}/run`, a route the binary serves only
 * for such events.
 *
 * The handler answers once the job has ended, failed jobs included (their failure is
 * written to the job), so an invocation fails only when the process does: a crash, running
 * out of memory, or the timeout. Lambda then runs it again, at most twice; the job's lease
 * makes a run that finds the job still held, or finished, end at once.
 */
export function createJobsFunction(args: {
    ctx: RegionContext;
    config: AppConfig;
    role: aws.iam.Role;
    /** Policies the function needs before it can start (logs, database, bucket). */
    rolePolicies: pulumi.Resource[];
    dsqlEndpoint: pulumi.Input<string>;
    photoBucket: pulumi.Input<string>;
}): JobsFunction {
    const { ctx, config } = args;
    const opts = { provider: ctx.provider };
    const functionName = jobsFunctionName(ctx);

    // Created up front so that retention applies from the first invocation.
    const logGroup = new aws.cloudwatch.LogGroup(
        functionName,
        { name: `/aws/lambda/${functionName}`, retentionInDays: LOG_RETENTION_DAYS },
        opts,
    );

    const fn = new aws.lambda.Function(
        functionName,
        {
            name: functionName,
            description: "Home Inventory background jobs (home-inventory-backend), started by the API",
            role: args.role.arn,
            runtime: "provided.al2023",
            handler: "bootstrap",
            architectures: ["arm64"],
            code: new pulumi.asset.FileArchive(LAMBDA_ZIP_PATH),
            timeout: JOBS_TIMEOUT_SECONDS,
            memorySize: JOBS_MEMORY_MB,
            ephemeralStorage: { size: JOBS_EPHEMERAL_STORAGE_MB },
            // See JOBS_RESERVED_CONCURRENCY: jobs can't starve the API of executions.
            reservedConcurrentExecutions: JOBS_RESERVED_CONCURRENCY,
            // No JOBS_FUNCTION: the jobs function runs jobs itself, it never starts others.
            environment: {
                variables: apiEnvironment({
                    config,
                    dsqlEndpoint: args.dsqlEndpoint,
                    photoBucket: args.photoBucket,
                    sesRegion: ctx.region,
                }),
            },
            loggingConfig: { logFormat: "Text", logGroup: logGroup.name },
        },
        { ...opts, dependsOn: [logGroup, ...args.rolePolicies] },
    );

    const eventInvokeConfig = new aws.lambda.FunctionEventInvokeConfig(
        functionName,
        {
            functionName: fn.name,
            maximumRetryAttempts: JOBS_MAX_RETRY_ATTEMPTS,
            maximumEventAgeInSeconds: JOBS_MAX_EVENT_AGE_SECONDS,
        },
        opts,
    );

    return { logGroup, function: fn, eventInvokeConfig };
}

export function createRegionalApi(args: {
    ctx: RegionContext;
    config: AppConfig;
    role: aws.iam.Role;
    /** Policies the function needs before it can start (logs, database, bucket, jobs). */
    rolePolicies: pulumi.Resource[];
    dsqlEndpoint: pulumi.Input<string>;
    photoBucket: pulumi.Input<string>;
    /** The region's jobs function, which the API invokes for background jobs. */
    jobsFunctionName: pulumi.Input<string>;
    /** Regional ACM certificate (already validated) covering config.apiDomainName. */
    certificateArn: pulumi.Input<string>;
}): RegionalApi {
    const { ctx, config } = args;
    const opts = { provider: ctx.provider };
    const functionName = apiFunctionName(ctx);

    // Created up front so that retention applies from the first invocation.
    const logGroup = new aws.cloudwatch.LogGroup(
        functionName,
        { name: `/aws/lambda/${functionName}`, retentionInDays: LOG_RETENTION_DAYS },
        opts,
    );

    const fn = new aws.lambda.Function(
        functionName,
        {
            name: functionName,
            description: "Home Inventory API (home-inventory-backend)",
            role: args.role.arn,
            runtime: "provided.al2023",
            handler: "bootstrap",
            architectures: ["arm64"],
            code: new pulumi.asset.FileArchive(LAMBDA_ZIP_PATH),
            timeout: LAMBDA_TIMEOUT_SECONDS,
            memorySize: LAMBDA_MEMORY_MB,
            environment: {
                variables: {
                    ...apiEnvironment({
                        config,
                        dsqlEndpoint: args.dsqlEndpoint,
                        photoBucket: args.photoBucket,
                        sesRegion: ctx.region,
                    }),
                    JOBS_FUNCTION: args.jobsFunctionName,
                },
            },
            loggingConfig: { logFormat: "Text", logGroup: logGroup.name },
        },
        { ...opts, dependsOn: [logGroup, ...args.rolePolicies] },
    );

    const apiName = regionalName("http-api", ctx);
    const api = new aws.apigatewayv2.Api(
        apiName,
        {
            name: apiName,
            protocolType: "HTTP",
            description: `Home Inventory API in ${ctx.region}`,
        },
        opts,
    );

    const integration = new aws.apigatewayv2.Integration(
        apiName,
        {
            apiId: api.id,
            integrationType: "AWS_PROXY",
            integrationMethod: "POST",
            integrationUri: fn.invokeArn,
            payloadFormatVersion: "2.0",
            timeoutMilliseconds: LAMBDA_TIMEOUT_SECONDS * 1000,
        },
        opts,
    );

    const route = new aws.apigatewayv2.Route(
        apiName,
        {
            apiId: api.id,
            routeKey: "ANY /api/{proxy+}",
            target: pulumi.interpolate`integrations/${integration.id}`,
        },
        opts,
    );

    const accessLogs = new aws.cloudwatch.LogGroup(
        `${apiName}-access`,
        { name: `/aws/apigateway/${apiName}`, retentionInDays: LOG_RETENTION_DAYS },
        opts,
    );

    const stage = new aws.apigatewayv2.Stage(
        apiName,
        {
            apiId: api.id,
            name: "$default",
            autoDeploy: true,
            defaultRouteSettings: { throttlingBurstLimit: 200, throttlingRateLimit: 100 },
            accessLogSettings: {
                destinationArn: accessLogs.arn,
                format: ACCESS_LOG_FORMAT,
            },
        },
        { ...opts, dependsOn: [route] },
    );

    new aws.lambda.Permission(
        apiName,
        {
            action: "lambda:InvokeFunction",
            function: fn.name,
            principal: "apigateway.amazonaws.com",
            sourceArn: pulumi.interpolate`${api.executionArn}/*/*`,
        },
        opts,
    );

    // api.<domain> exists in both regions; Route 53 latency records pick one.
    const domainName = new aws.apigatewayv2.DomainName(
        regionalName("api-domain", ctx),
        {
            domainName: config.apiDomainName,
            domainNameConfiguration: {
                certificateArn: args.certificateArn,
                endpointType: "REGIONAL",
                securityPolicy: "TLS_1_2",
            },
        },
        opts,
    );
    new aws.apigatewayv2.ApiMapping(
        regionalName("api-mapping", ctx),
        { apiId: api.id, domainName: domainName.id, stage: stage.id },
        opts,
    );

    return {
        logGroup,
        function: fn,
        api,
        stage,
        domainName,
        endpoint: api.apiEndpoint,
        endpointHost: api.apiEndpoint.apply((url) => url.replace(/^https:\/\//, "").replace(/\/$/, "")),
    };
}

/**
 * The event the reminder schedule sends: an API Gateway HTTP API (payload 2.0) request for
 * `POST /api/internal/reminders/run`, the shape the function's runtime loop understands,
 * with the API id of the deployment's own events (`home-inventory-jobs`), which API Gateway
 * never sends; the route answers 404 to anything else. The backend's tests deliver the
 * same file to the function.
 */
export const REMINDER_EVENT_PATH = path.join(__dirname, "reminder-event.json");

export function reminderEvent(): string {
    return JSON.stringify(JSON.parse(fs.readFileSync(REMINDER_EVENT_PATH, "utf8")));
}

export interface ReminderSchedule {
    rule: aws.cloudwatch.EventRule;
    target: aws.cloudwatch.EventTarget;
    permission: aws.lambda.Permission;
}

/**
 * Runs a reminder pass every hour in the region: an EventBridge rule whose target is the
 * region's jobs function (the same binary as the API, with up to 15 minutes per run where
 * the API has 30 s), invoked asynchronously with the constant reminder event. A failed run
 * is tried again by Lambda (the jobs function's retry settings); a repeated pass sends
 * nothing twice.
 */
export function createReminderSchedule(args: {
    ctx: RegionContext;
    fn: aws.lambda.Function;
}): ReminderSchedule {
    const { ctx } = args;
    const opts = { provider: ctx.provider };
    const name = regionalName("reminders", ctx);
    const rule = new aws.cloudwatch.EventRule(
        name,
        {
            name,
            description: "Home Inventory: the hourly reminder pass (digest mail)",
            scheduleExpression: REMINDER_SCHEDULE,
        },
        opts,
    );
    const permission = new aws.lambda.Permission(
        name,
        {
            action: "lambda:InvokeFunction",
            function: args.fn.name,
            principal: "events.amazonaws.com",
            sourceArn: rule.arn,
        },
        opts,
    );
    const target = new aws.cloudwatch.EventTarget(
        name,
        {
            rule: rule.name,
            arn: args.fn.arn,
            input: reminderEvent(),
        },
        { ...opts, dependsOn: [permission] },
    );
    return { rule, target, permission };
}

export interface MailIdentity {
    identity: aws.sesv2.EmailIdentity;
    dkimRecords: aws.route53.Record[];
}

/** Easy DKIM gives every identity three tokens, each published as a CNAME. */
const DKIM_TOKENS = 3;

/**
 * The SES domain identity reminder mail is sent from, in one region, verified with Easy
 * DKIM: three CNAME records in the site's Route 53 zone (each region's identity has its
 * own). Until the account leaves the SES sandbox, mail reaches verified addresses only.
 */
export function createMailIdentity(args: {
    ctx: RegionContext;
    config: AppConfig;
    zoneId: pulumi.Input<string>;
}): MailIdentity {
    const { ctx, config } = args;
    const opts = { provider: ctx.provider };
    const identity = new aws.sesv2.EmailIdentity(
        regionalName("mail", ctx),
        { emailIdentity: config.domainName },
        opts,
    );
    const dkimRecords = Array.from({ length: DKIM_TOKENS }, (_, i) => {
        const token = identity.dkimSigningAttributes.apply((a) => a?.tokens?.[i] ?? `pending-${i}`);
        return new aws.route53.Record(
            regionalName(`mail-dkim-${i}`, ctx),
            {
                zoneId: args.zoneId,
                name: pulumi.interpolate`${token}._domainkey.${config.domainName}`,
                type: "CNAME",
                ttl: 1800,
                records: [pulumi.interpolate`${token}.dkim.amazonses.com`],
            },
            opts,
        );
    });
    return { identity, dkimRecords };
}
