// Shared types, constants and configuration for the Home Inventory stack.

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Prefix of every named resource of the stack. */
export const PROJECT = "home-inventory";

/** Name of the CloudWatch dashboard (the README links to it). */
export const DASHBOARD_NAME = `${PROJECT}-prod`;

/** The two regions that serve traffic, and the DSQL witness region. */
export const PRIMARY_REGION = "us-east-1";
export const SECONDARY_REGION = "us-east-2";
export const WITNESS_REGION = "us-west-2";

/** Bootstrap resources made by hand once (see README, "Initial setup"). */
export const PULUMI_STATE_BUCKET = `${PROJECT}-pulumi-state`;
export const PULUMI_KMS_ALIAS = `alias/pulumi-${PROJECT}`;

/** Lambda sizing; the alarms are derived from the timeout. */
export const LAMBDA_TIMEOUT_SECONDS = 30;
/** Room to decode a 50-megapixel photo and make its thumbnail (and more CPU with it). */
export const LAMBDA_MEMORY_MB = 1024;
/** Path of the deployment package, relative to infrastructure/. */
export const LAMBDA_ZIP_PATH = "dist/bootstrap.zip";
export const LOG_RETENTION_DAYS = 30;

/**
 * The jobs function: the same binary and zip as the API, invoked asynchronously by the API
 * (JOBS_FUNCTION) to run imports, exports, backups and restores past API Gateway's 30 s.
 * 900 s is the longest a Lambda invocation may run.
 */
export const JOBS_TIMEOUT_SECONDS = 900;
export const JOBS_MEMORY_MB = 1024;
/** /tmp, where a backup with every photo is assembled before it is uploaded (Lambda's maximum). */
export const JOBS_EPHEMERAL_STORAGE_MB = 10240;
/**
 * Jobs running at once per region. The jobs and API functions draw on the same regional
 * concurrency pool; reserving (and so capping) the jobs function's share means a burst of
 * imports, or retries of failing jobs, can never take the executions the API needs, and
 * at most this many jobs hold database connections at a time. Invocations over the cap
 * are throttled, and Lambda keeps throttled asynchronous events and tries them again
 * (up to JOBS_MAX_EVENT_AGE_SECONDS), so extra jobs wait rather than fail.
 */
export const JOBS_RESERVED_CONCURRENCY = 10;
/** Lambda runs an invocation that failed (crash, out of memory, timeout) again, twice. */
export const JOBS_MAX_RETRY_ATTEMPTS = 2;
/** An event still not run after an hour (throttled all along) is dropped. */
export const JOBS_MAX_EVENT_AGE_SECONDS = 3600;

/**
 * The reminder pass: EventBridge runs it every hour in each region (people choose a local
 * hour; each pass mails those whose hour has come, and catches up on any it missed).
 * Reminders are recorded once per person and threshold in the shared database, so the two
 * regions' passes never send the same reminder twice.
 */
export const REMINDER_SCHEDULE = "rate(1 hour)";

/** The database role the API connects as; `migrate` maps it to the Lambda roles. */
export const DB_APP_ROLE = "app";

/** Photo storage housekeeping. */
export const ABORT_INCOMPLETE_UPLOADS_DAYS = 1;
/** Uploads never completed (the API moves finished ones out of `uploads/`). */
export const ABANDONED_UPLOADS_PREFIX = "uploads/";
export const ABANDONED_UPLOADS_DAYS = 2;
export const NONCURRENT_VERSION_DAYS = 30;
/**
 * Files of background jobs: uploaded import files (`imports/<household>/<id>`) and what
 * jobs make (`jobs/<household>/<job>/…`). Self-hosted, the app removes them 7 days after
 * the job finished; on AWS nothing sweeps, so the lifecycle expires them a day later.
 */
export const IMPORTS_PREFIX = "imports/";
export const JOB_FILES_PREFIX = "jobs/";
export const JOB_FILES_DAYS = 8;
/**
 * Expired or deleted job files are not kept as old versions for NONCURRENT_VERSION_DAYS
 * like photos: they can be made again, and a backup can weigh gigabytes.
 */
export const JOB_FILES_NONCURRENT_DAYS = 1;

/** AWS-managed CloudFront policies, referenced by their fixed ids. */
export const MANAGED_POLICY = {
    cachingOptimized: "658327ea-f89d-4fab-a63d-7e88639e58f6",
    cachingDisabled: "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
    allViewerExceptHostHeader: "b689b0a8-53d0-40ab-baf2-68738e2966ac",
} as const;

/**
 * How the API learns who is calling when it runs behind CloudFront.
 *
 * API Gateway sees a CloudFront edge server as the source of every request, so the API's
 * per-address limits (sign-in attempts) would lump together everyone behind one edge.
 * A CloudFront Function on the /api/* behaviour (viewer request) therefore sets
 * `x-viewer-address` to the viewer's IP address (bare, IPv4 or IPv6, e.g. `198.51.100.7`
 * or `2001:db8::1`), replacing any header of that name the viewer sent, and the API reads
 * it when `TRUSTED_PROXY=cloudfront`. (CloudFront Functions may not set `CloudFront-*`
 * headers, hence the name.) So that nobody can call API Gateway directly with a made-up
 * address, CloudFront also sends `X-Origin-Verify` with a secret that the API compares
 * with `ORIGIN_VERIFY_SECRET`.
 */
export const VIEWER_ADDRESS_HEADER = "x-viewer-address";
export const ORIGIN_VERIFY_HEADER = "X-Origin-Verify";
export const TRUSTED_PROXY_CLOUDFRONT = "cloudfront";
/** What the origin-verify secret must look like: long, and safe in an HTTP header. */
export const ORIGIN_VERIFY_SECRET_RE = /^[A-Za-z0-9_.~+\/=-]{32,256}$/;

/** GitHub's OIDC issuer and the audience configure-aws-credentials asks for. */
export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";
export const GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com";

/** Key used in resource names and outputs: "East" is us-east-1, "West" is us-east-2. */
export type RegionKey = "east" | "west";

export interface RegionContext {
    key: RegionKey;
    /** AWS region name, e.g. "us-east-1". */
    region: string;
    /** Explicit provider for that region; every regional resource uses it. */
    provider: aws.Provider;
}

/** Stack configuration (`pulumi config`). */
export interface AppConfig {
    /** Apex the site is served on, e.g. example.com (a public Route 53 zone of that name must exist). */
    domainName: string;
    /** Name the API answers on behind latency routing: api.<domainName>. */
    apiDomainName: string;
    /** The GitHub repository allowed to deploy, as owner/name. */
    githubRepo: string;
    googleClientId: pulumi.Output<string>;
    googleClientSecret: pulumi.Output<string>;
    anthropicApiKey: pulumi.Output<string>;
    /** Shared by CloudFront (X-Origin-Verify) and the API (ORIGIN_VERIFY_SECRET). */
    originVerifySecret: pulumi.Output<string>;
    /**
     * Whether the API is told to trust CloudFront's headers (TRUSTED_PROXY and
     * ORIGIN_VERIFY_SECRET in its environment). Default true. Only for the first rollout
     * of the headers: CloudFront takes minutes to start sending them, the Lambda change is
     * immediate (see README, "Viewer address and origin verification").
     */
    trustCloudFrontHeaders: boolean;
    /**
     * The sender of reminder mail (MAIL_FROM), at the site's domain, which SES verifies.
     * Default `Home Inventory <reminders@<domainName>>`.
     */
    mailFrom: string;
}

const DOMAIN_RE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const REPO_RE = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/** Reads and validates the stack configuration. */
export function loadConfig(config: pulumi.Config = new pulumi.Config()): AppConfig {
    const domainName = config.require("domainName").trim().toLowerCase();
    if (!DOMAIN_RE.test(domainName)) {
        throw new Error(`domainName must be a DNS name such as example.com, got "${domainName}"`);
    }
    const githubRepo = config.require("githubRepo").trim();
    if (!REPO_RE.test(githubRepo)) {
        throw new Error(`githubRepo must be owner/name, got "${githubRepo}"`);
    }
    return {
        domainName,
        apiDomainName: `api.${domainName}`,
        githubRepo,
        googleClientId: config.requireSecret("googleClientId"),
        googleClientSecret: config.requireSecret("googleClientSecret"),
        anthropicApiKey: config.requireSecret("anthropicApiKey"),
        originVerifySecret: config.requireSecret("originVerifySecret").apply((secret) => {
            if (!ORIGIN_VERIFY_SECRET_RE.test(secret)) {
                throw new Error(
                    "originVerifySecret must be 32 to 256 characters of A-Z a-z 0-9 _ . ~ + / = - " +
                        "(for example: openssl rand -hex 32)",
                );
            }
            return secret;
        }),
        trustCloudFrontHeaders: config.getBoolean("trustCloudFrontHeaders") ?? true,
        mailFrom: checkMailFrom(config.get("mailFrom")?.trim() || `Home Inventory <reminders@${domainName}>`, domainName),
    };
}

/** A sender address must be at the domain SES verifies (or one of its subdomains). */
function checkMailFrom(mailFrom: string, domainName: string): string {
    const address = (mailFrom.match(/<([^>]+)>\s*$/)?.[1] ?? mailFrom).trim().toLowerCase();
    const domain = address.split("@")[1] ?? "";
    if (!address.includes("@") || !(domain === domainName || domain.endsWith(`.${domainName}`))) {
        throw new Error(`mailFrom must be an address at ${domainName} (SES verifies that domain), got "${mailFrom}"`);
    }
    return mailFrom;
}

/** Tags put on every taggable resource through the providers' default tags. */
export const DEFAULT_TAGS: Record<string, string> = {
    Project: PROJECT,
    Stack: "prod",
    ManagedBy: "pulumi",
};

/** Makes the explicit provider of each region. */
export function createProviders(): Record<RegionKey, RegionContext> {
    const make = (key: RegionKey, region: string): RegionContext => ({
        key,
        region,
        provider: new aws.Provider(`aws-${region}`, {
            region,
            defaultTags: { tags: DEFAULT_TAGS },
        }),
    });
    return {
        east: make("east", PRIMARY_REGION),
        west: make("west", SECONDARY_REGION),
    };
}

/** Region-suffixed resource name, e.g. home-inventory-api-us-east-2. */
export function regionalName(base: string, ctx: RegionContext): string {
    return `${PROJECT}-${base}-${ctx.region}`;
}
