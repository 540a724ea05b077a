// IAM: the execution roles of each region's Lambda functions (API and jobs), and the role
// GitHub Actions assumes through OIDC to deploy.

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
    GITHUB_OIDC_AUDIENCE,
    GITHUB_OIDC_HOST,
    PROJECT,
    PULUMI_KMS_ALIAS,
    PULUMI_STATE_BUCKET,
    RegionContext,
    regionalName,
} from "./types";

const ASSUME_BY_LAMBDA = JSON.stringify({
    Version: "2012-10-17",
    Statement: [
        {
            Effect: "Allow",
            Principal: { Service: "lambda.amazonaws.com" },
            Action: "sts:AssumeRole",
        },
    ],
});

export interface LambdaRole {
    role: aws.iam.Role;
    policy: aws.iam.RolePolicy;
}

/** Which function of a region a role runs; the role is named home-inventory-<kind>-<region>. */
export type FunctionKind = "api" | "jobs";

const ROLE_DESCRIPTION: Record<FunctionKind, string> = {
    api: "the Home Inventory API",
    jobs: "the Home Inventory jobs function",
};

/**
 * The execution role of one function (the API or the jobs function) in one region. It may:
 * - write its own log group;
 * - connect to either DSQL cluster as the database role `app` (dsql:DbConnect only, never
 *   DbConnectAdmin): the local cluster is the one it uses, the other is allowed so a
 *   region's functions can be pointed at the peer cluster without an IAM change;
 * - read, write and delete objects in its own region's photo bucket, and list it (so a
 *   missing object is a 404, not a 403): the API for photos and attachments; the jobs
 *   function to read every photo of a household for a backup, write restored ones, write
 *   its own files (jobs/…), and read and remove uploaded import files (imports/…);
 * - the API only: invoke its region's jobs function (`invokeFunctionArns`).
 *
 * Each function has a role of its own rather than one role for both: then each writes
 * only its own log group, and the jobs function, which reads files people upload (CSV
 * imports, backups to restore), cannot invoke any function. The price is two more roles
 * to map to `app`, which `migrate` does from `dsqlAppRoleArns` on every deployment.
 */
export function createLambdaRole(args: {
    ctx: RegionContext;
    kind: FunctionKind;
    accountId: pulumi.Input<string>;
    functionName: string;
    clusterArns: pulumi.Input<string>[];
    photoBucketArn: pulumi.Input<string>;
    /** Functions the role may invoke: the API's, its region's jobs function. */
    invokeFunctionArns?: pulumi.Input<string>[];
    /**
     * The jobs role's: the domain it may send mail from through SES in its region (the
     * reminder pass). Any identity of the region may be named (in the SES sandbox the
     * verified recipients are checked too), but only with a sender at this domain.
     */
    sendMailFrom?: string;
}): LambdaRole {
    const { ctx, kind, accountId, functionName, clusterArns, photoBucketArn } = args;
    const name = regionalName(kind, ctx);
    const invokeFunctionArns = args.invokeFunctionArns ?? [];
    // IAM is global; the role is still created through the region's provider so that a
    // region's resources are created (and destroyed) together.
    const role = new aws.iam.Role(
        name,
        {
            name,
            description: `Execution role of ${ROLE_DESCRIPTION[kind]} in ${ctx.region}`,
            assumeRolePolicy: ASSUME_BY_LAMBDA,
        },
        { provider: ctx.provider },
    );
    const logGroupArn = pulumi.interpolate`arn:aws:logs:${ctx.region}:${accountId}:log-group:/aws/lambda/${functionName}`;
    const policy = new aws.iam.RolePolicy(
        name,
        {
            role: role.id,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Sid: "WriteOwnLogs",
                        Effect: "Allow",
                        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
                        Resource: [logGroupArn, pulumi.interpolate`${logGroupArn}:*`],
                    },
                    {
                        Sid: "ConnectAsAppRole",
                        Effect: "Allow",
                        Action: "dsql:DbConnect",
                        Resource: clusterArns,
                    },
                    {
                        Sid: "PhotoObjects",
                        Effect: "Allow",
                        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                        Resource: pulumi.interpolate`${photoBucketArn}/*`,
                    },
                    {
                        Sid: "PhotoBucketList",
                        Effect: "Allow",
                        Action: "s3:ListBucket",
                        Resource: photoBucketArn,
                    },
                    ...(args.sendMailFrom
                        ? [
                              {
                                  Sid: "SendReminderMail",
                                  Effect: "Allow",
                                  Action: ["ses:SendEmail", "ses:SendRawEmail"],
                                  Resource: pulumi.interpolate`arn:aws:ses:${ctx.region}:${accountId}:identity/*`,
                                  Condition: {
                                      StringLike: {
                                          "ses:FromAddress": [`*@${args.sendMailFrom}`, `*@*.${args.sendMailFrom}`],
                                      },
                                  },
                              },
                          ]
                        : []),
                    ...(invokeFunctionArns.length > 0
                        ? [
                              {
                                  Sid: "StartJobs",
                                  Effect: "Allow",
                                  Action: "lambda:InvokeFunction",
                                  Resource: invokeFunctionArns,
                              },
                          ]
                        : []),
                ],
            }),
        },
        { provider: ctx.provider },
    );
    return { role, policy };
}

export interface GithubActions {
    oidcProvider: aws.iam.OpenIdConnectProvider;
    role: aws.iam.Role;
    policy: aws.iam.RolePolicy;
}

/** The subject GitHub puts in tokens of workflow runs on the main branch. */
export function mainBranchSubject(githubRepo: string): string {
    return `repo:${githubRepo}:ref:refs/heads/main`;
}

/**
 * The role `deploy-prod.yml` assumes. Trusted only for workflow runs of the main branch of
 * the configured repository (pull requests, other branches, tags, forks and GitHub
 * environments all have another `sub` and are refused).
 *
 * Its permissions cover the routine deployment, and nothing that could widen its own
 * access (no IAM writes except passing the functions' execution roles to Lambda):
 * - Pulumi state (S3 bucket) and secrets (KMS key behind the alias);
 * - the hosted zone lookup the program does;
 * - updating the API and jobs functions of both regions (code and configuration);
 * - syncing the frontend bucket and invalidating the distribution;
 * - connecting to the clusters as `admin` to run migrations.
 * Changes to any other resource (new resources, IAM, DNS, CloudFront settings) are applied
 * by an administrator with `pulumi up` from a workstation; a CI run that needs them fails
 * with AccessDenied instead of making them.
 */
export function createGithubActions(args: {
    provider: aws.Provider;
    githubRepo: string;
    accountId: pulumi.Input<string>;
    hostedZoneId: pulumi.Input<string>;
    /** Every function it deploys: the API and jobs functions of both regions. */
    lambdaFunctionArns: pulumi.Input<string>[];
    /** Their execution roles, which updating a function's configuration passes again. */
    lambdaRoleArns: pulumi.Input<string>[];
    frontendBucketArn: pulumi.Input<string>;
    distributionArn: pulumi.Input<string>;
    clusterArns: pulumi.Input<string>[];
}): GithubActions {
    const { provider, githubRepo, accountId } = args;

    const oidcProvider = new aws.iam.OpenIdConnectProvider(
        `${PROJECT}-github-oidc`,
        {
            url: `https://${GITHUB_OIDC_HOST}`,
            clientIdLists: [GITHUB_OIDC_AUDIENCE],
            // AWS validates GitHub's certificate against its own trust store; these are
            // GitHub's published intermediate thumbprints, kept for older API behaviour.
            thumbprintLists: [
                "6938fd4d98bab03faadb97b34396831e3780aea1",
                "1c58a3a8518e8759bf075b76b750d4f2df264fcd",
            ],
        },
        { provider },
    );

    const roleName = `${PROJECT}-github-actions`;
    const role = new aws.iam.Role(
        roleName,
        {
            name: roleName,
            description: `Deploys Home Inventory from ${githubRepo} (main branch only)`,
            maxSessionDuration: 3600,
            assumeRolePolicy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Sid: "GithubActionsMainBranch",
                        Effect: "Allow",
                        Principal: { Federated: oidcProvider.arn },
                        Action: "sts:AssumeRoleWithWebIdentity",
                        Condition: {
                            StringEquals: {
                                [`${GITHUB_OIDC_HOST}:aud`]: GITHUB_OIDC_AUDIENCE,
                                [`${GITHUB_OIDC_HOST}:sub`]: mainBranchSubject(githubRepo),
                            },
                        },
                    },
                ],
            }),
        },
        { provider },
    );

    const stateBucketArn = `arn:aws:s3:::${PULUMI_STATE_BUCKET}`;
    const policy = new aws.iam.RolePolicy(
        roleName,
        {
            role: role.id,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Sid: "PulumiStateList",
                        Effect: "Allow",
                        Action: ["s3:ListBucket", "s3:GetBucketLocation"],
                        Resource: stateBucketArn,
                    },
                    {
                        Sid: "PulumiStateObjects",
                        Effect: "Allow",
                        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                        Resource: `${stateBucketArn}/*`,
                    },
                    {
                        Sid: "PulumiSecretsKey",
                        Effect: "Allow",
                        Action: ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                        Resource: pulumi.interpolate`arn:aws:kms:*:${accountId}:key/*`,
                        Condition: {
                            "ForAnyValue:StringEquals": { "kms:ResourceAliases": PULUMI_KMS_ALIAS },
                        },
                    },
                    {
                        Sid: "HostedZoneLookupList",
                        Effect: "Allow",
                        Action: ["route53:ListHostedZones", "route53:ListHostedZonesByName"],
                        Resource: "*",
                    },
                    {
                        Sid: "HostedZoneLookupRead",
                        Effect: "Allow",
                        Action: ["route53:GetHostedZone", "route53:ListTagsForResource"],
                        Resource: pulumi.interpolate`arn:aws:route53:::hostedzone/${args.hostedZoneId}`,
                    },
                    {
                        Sid: "UpdateFunctions",
                        Effect: "Allow",
                        Action: [
                            "lambda:GetFunction",
                            "lambda:GetFunctionConfiguration",
                            "lambda:GetFunctionCodeSigningConfig",
                            "lambda:GetFunctionConcurrency",
                            "lambda:GetRuntimeManagementConfig",
                            "lambda:ListVersionsByFunction",
                            "lambda:ListTags",
                            "lambda:UpdateFunctionCode",
                            "lambda:UpdateFunctionConfiguration",
                        ],
                        Resource: args.lambdaFunctionArns,
                    },
                    {
                        Sid: "PassFunctionRolesToLambda",
                        Effect: "Allow",
                        Action: "iam:PassRole",
                        Resource: args.lambdaRoleArns,
                        Condition: { StringEquals: { "iam:PassedToService": "lambda.amazonaws.com" } },
                    },
                    {
                        Sid: "FrontendSyncList",
                        Effect: "Allow",
                        Action: "s3:ListBucket",
                        Resource: args.frontendBucketArn,
                    },
                    {
                        Sid: "FrontendSyncObjects",
                        Effect: "Allow",
                        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                        Resource: pulumi.interpolate`${args.frontendBucketArn}/*`,
                    },
                    {
                        Sid: "InvalidateCdn",
                        Effect: "Allow",
                        Action: ["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"],
                        Resource: args.distributionArn,
                    },
                    {
                        Sid: "RunMigrationsAsAdmin",
                        Effect: "Allow",
                        Action: "dsql:DbConnectAdmin",
                        Resource: args.clusterArns,
                    },
                ],
            }),
        },
        { provider },
    );

    return { oidcProvider, role, policy };
}
