// Home Inventory on AWS: multi-region active-active (us-east-1 and us-east-2).
// See README.md for the architecture, the deployment steps and the outputs.

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createApiDns, createCdn, createCertificates } from "./src/cloudfront";
import { createDatabase } from "./src/database";
import { createGithubActions, createLambdaRole } from "./src/iam";
import {
    apiFunctionName,
    createJobsFunction,
    createMailIdentity,
    createRegionalApi,
    createReminderSchedule,
    JobsFunction,
    jobsFunctionName,
    RegionalApi,
} from "./src/lambda";
import { createMonitoring } from "./src/monitoring";
import { allowCloudFrontRead, createStorage } from "./src/storage";
import { createProviders, loadConfig, RegionKey } from "./src/types";

const config = loadConfig();
const regions = createProviders();
const east = regions.east.provider;

const accountId = aws.getCallerIdentityOutput({}, { provider: east }).accountId;
const zone = aws.route53.getZoneOutput({ name: config.domainName, privateZone: false }, { provider: east });

// Data: the DSQL cluster pair and the buckets.
const database = createDatabase(regions);
const storage = createStorage({ regions, accountId, domainName: config.domainName });

// Certificates first: each region's API custom domain needs one.
const certificates = createCertificates({ config, regions, zoneId: zone.zoneId });

// Compute, in each region: the jobs function first, then the API (Lambda + HTTP API),
// whose role may invoke that jobs function and whose environment names it.
const clusterArns = [database.east.arn, database.west.arn];
const lambdaRoles = {} as Record<RegionKey, ReturnType<typeof createLambdaRole>>;
const jobsRoles = {} as Record<RegionKey, ReturnType<typeof createLambdaRole>>;
const jobs = {} as Record<RegionKey, JobsFunction>;
const apis = {} as Record<RegionKey, RegionalApi>;
for (const ctx of [regions.east, regions.west]) {
    const regional = {
        ctx,
        accountId,
        clusterArns,
        photoBucketArn: storage.photos[ctx.key].bucket.arn,
    };
    const backend = {
        ctx,
        config,
        dsqlEndpoint: database[ctx.key].endpoint,
        photoBucket: storage.photos[ctx.key].bucket.bucket,
    };
    jobsRoles[ctx.key] = createLambdaRole({
        ...regional,
        kind: "jobs",
        functionName: jobsFunctionName(ctx),
        sendMailFrom: config.domainName,
    });
    jobs[ctx.key] = createJobsFunction({
        ...backend,
        role: jobsRoles[ctx.key].role,
        rolePolicies: [jobsRoles[ctx.key].policy],
    });
    lambdaRoles[ctx.key] = createLambdaRole({
        ...regional,
        kind: "api",
        functionName: apiFunctionName(ctx),
        invokeFunctionArns: [jobs[ctx.key].function.arn],
        // The confirmation mail a person asks for before their first reminder digest.
        sendMailFrom: config.domainName,
    });
    apis[ctx.key] = createRegionalApi({
        ...backend,
        role: lambdaRoles[ctx.key].role,
        rolePolicies: [lambdaRoles[ctx.key].policy],
        jobsFunctionName: jobs[ctx.key].function.name,
        certificateArn: certificates.api[ctx.key].arn,
    });
    // Reminders: the region's SES identity, and the hourly pass in its jobs function.
    createMailIdentity({ ctx, config, zoneId: zone.zoneId });
    createReminderSchedule({ ctx, fn: jobs[ctx.key].function });
}

// Edge: api.<domain> with latency routing and health checks, then CloudFront in front of all.
const apiDns = createApiDns({ config, regions, apis, zoneId: zone.zoneId });
const cdn = createCdn({
    config,
    provider: east,
    frontendBucket: storage.frontend.bucket,
    certificateArn: certificates.site.arn,
    zoneId: zone.zoneId,
    apiDns,
    photoBucketDomains: [
        storage.photos.east.bucket.bucketRegionalDomainName,
        storage.photos.west.bucket.bucketRegionalDomainName,
    ],
});
allowCloudFrontRead({ frontend: storage.frontend, distributionArn: cdn.distribution.arn, provider: east });

// Deployment from GitHub Actions.
const lambdaRoleArns = [
    lambdaRoles.east.role.arn,
    lambdaRoles.west.role.arn,
    jobsRoles.east.role.arn,
    jobsRoles.west.role.arn,
];
const github = createGithubActions({
    provider: east,
    githubRepo: config.githubRepo,
    accountId,
    hostedZoneId: zone.zoneId,
    lambdaFunctionArns: [
        apis.east.function.arn,
        apis.west.function.arn,
        jobs.east.function.arn,
        jobs.west.function.arn,
    ],
    lambdaRoleArns,
    frontendBucketArn: storage.frontend.bucket.arn,
    distributionArn: cdn.distribution.arn,
    clusterArns,
});

createMonitoring({ regions, apis, jobs, apiDns });

// Outputs.
export const websiteUrl = `https://${config.domainName}`;
export const githubActionsRoleArn = github.role.arn;
export const apiEndpointEast = apis.east.endpoint;
export const apiEndpointWest = apis.west.endpoint;
export const dsqlEndpointEast = database.east.endpoint;
export const dsqlEndpointWest = database.west.endpoint;
export const lambdaFunctionNameEast = apis.east.function.name;
export const lambdaFunctionNameWest = apis.west.function.name;
export const frontendBucketName = storage.frontend.bucket.bucket;
export const cloudFrontDistributionId = cdn.distribution.id;

// Also useful: the API behind latency routing, the photo buckets, the jobs functions, and
// the Lambda roles (API and jobs) that `home-inventory-backend migrate` maps to the
// database role `app`.
export const apiUrl = `https://${config.apiDomainName}`;
export const photoBucketNameEast = storage.photos.east.bucket.bucket;
export const photoBucketNameWest = storage.photos.west.bucket.bucket;
export const lambdaRoleArnEast = lambdaRoles.east.role.arn;
export const lambdaRoleArnWest = lambdaRoles.west.role.arn;
export const jobsFunctionNameEast = jobs.east.function.name;
export const jobsFunctionNameWest = jobs.west.function.name;
export const jobsRoleArnEast = jobsRoles.east.role.arn;
export const jobsRoleArnWest = jobsRoles.west.role.arn;
export const dsqlAppRoleArns = pulumi.all(lambdaRoleArns).apply((arns) => arns.join(","));
