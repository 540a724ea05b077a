// S3: the private bucket holding the built SPA, and one photo bucket per serving region.
//
// Photos: each region's Lambda signs upload and download URLs for the bucket in its own
// region, so a region keeps working on its own. The two photo buckets replicate to each
// other (two-way replication, delete markers and replica metadata included), so an object
// written in one region appears in the other within seconds to minutes. The database
// stores object keys only, never bucket names, so either region can serve any photo.
//
// The photo buckets also hold the files of background jobs (imports/ and jobs/), which
// their lifecycle expires (JOB_FILES_DAYS in types.ts).

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
    ABANDONED_UPLOADS_DAYS,
    ABANDONED_UPLOADS_PREFIX,
    ABORT_INCOMPLETE_UPLOADS_DAYS,
    IMPORTS_PREFIX,
    JOB_FILES_DAYS,
    JOB_FILES_NONCURRENT_DAYS,
    JOB_FILES_PREFIX,
    NONCURRENT_VERSION_DAYS,
    PROJECT,
    RegionContext,
    RegionKey,
} from "./types";

export interface PrivateBucket {
    bucket: aws.s3.Bucket;
    versioning: aws.s3.BucketVersioning;
    publicAccessBlock: aws.s3.BucketPublicAccessBlock;
}

export interface Storage {
    frontend: PrivateBucket;
    photos: Record<RegionKey, PrivateBucket>;
    replicationRole: aws.iam.Role;
}

type LifecycleRule = aws.types.input.s3.BucketLifecycleConfigurationRule;

/**
 * What the photo buckets' lifecycle adds for the files of background jobs: uploaded
 * import files and the jobs' own files expire after JOB_FILES_DAYS, and their old
 * versions a day later instead of after NONCURRENT_VERSION_DAYS (S3 applies the shorter
 * of two overlapping expirations).
 */
export function jobFilesLifecycleRules(): LifecycleRule[] {
    return [
        { id: "expire-import-uploads", prefix: IMPORTS_PREFIX },
        { id: "expire-job-files", prefix: JOB_FILES_PREFIX },
    ].map(({ id, prefix }) => ({
        id,
        status: "Enabled",
        filter: { prefix },
        expiration: { days: JOB_FILES_DAYS },
        noncurrentVersionExpiration: { noncurrentDays: JOB_FILES_NONCURRENT_DAYS },
    }));
}

/**
 * A bucket no one outside the account can read: all four public-access blocks on, ACLs
 * disabled (bucket owner owns every object), default encryption, versioning, and a
 * lifecycle that cleans up failed multipart uploads and old versions, plus `extraRules`.
 */
export function createPrivateBucket(
    name: string,
    bucketName: pulumi.Input<string>,
    provider: aws.Provider,
    extraRules: LifecycleRule[] = [],
): PrivateBucket {
    const opts = { provider };
    const bucket = new aws.s3.Bucket(name, { bucket: bucketName, forceDestroy: false }, opts);
    const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
        `${name}-public-access`,
        {
            bucket: bucket.id,
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        },
        opts,
    );
    new aws.s3.BucketOwnershipControls(
        `${name}-ownership`,
        { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
        opts,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
        `${name}-encryption`,
        {
            bucket: bucket.id,
            rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
        },
        opts,
    );
    const versioning = new aws.s3.BucketVersioning(
        `${name}-versioning`,
        { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
        opts,
    );
    new aws.s3.BucketLifecycleConfiguration(
        `${name}-lifecycle`,
        {
            bucket: bucket.id,
            rules: [
                {
                    id: "abort-incomplete-multipart-uploads",
                    status: "Enabled",
                    filter: {},
                    abortIncompleteMultipartUpload: { daysAfterInitiation: ABORT_INCOMPLETE_UPLOADS_DAYS },
                },
                {
                    id: "expire-abandoned-uploads",
                    status: "Enabled",
                    filter: { prefix: ABANDONED_UPLOADS_PREFIX },
                    expiration: { days: ABANDONED_UPLOADS_DAYS },
                },
                {
                    id: "expire-noncurrent-versions",
                    status: "Enabled",
                    filter: {},
                    noncurrentVersionExpiration: { noncurrentDays: NONCURRENT_VERSION_DAYS },
                    expiration: { expiredObjectDeleteMarker: true },
                },
                ...extraRules,
            ],
        },
        { provider, dependsOn: [versioning] },
    );
    return { bucket, versioning, publicAccessBlock };
}

/** Bucket names are global: the account id keeps them unique. */
export function frontendBucketName(accountId: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.interpolate`${PROJECT}-frontend-${accountId}`;
}

export function photoBucketName(accountId: pulumi.Input<string>, region: string): pulumi.Output<string> {
    return pulumi.interpolate`${PROJECT}-photos-${accountId}-${region}`;
}

export function createStorage(args: {
    regions: Record<RegionKey, RegionContext>;
    accountId: pulumi.Input<string>;
    domainName: string;
}): Storage {
    const { regions, accountId, domainName } = args;

    const frontend = createPrivateBucket(
        `${PROJECT}-frontend`,
        frontendBucketName(accountId),
        regions.east.provider,
    );

    const photos = {} as Record<RegionKey, PrivateBucket>;
    for (const ctx of [regions.east, regions.west]) {
        const name = `${PROJECT}-photos-${ctx.region}`;
        const photo = createPrivateBucket(
            name,
            photoBucketName(accountId, ctx.region),
            ctx.provider,
            jobFilesLifecycleRules(),
        );
        // The browser PUTs uploads and GETs photos with presigned URLs, from the site only.
        new aws.s3.BucketCorsConfiguration(
            `${name}-cors`,
            {
                bucket: photo.bucket.id,
                corsRules: [
                    {
                        id: "site-presigned-urls",
                        allowedOrigins: [`https://${domainName}`],
                        allowedMethods: ["GET", "HEAD", "PUT"],
                        allowedHeaders: ["*"],
                        exposeHeaders: ["ETag"],
                        maxAgeSeconds: 3600,
                    },
                ],
            },
            { provider: ctx.provider },
        );
        photos[ctx.key] = photo;
    }

    const replicationRole = createReplication(regions, photos);
    return { frontend, photos, replicationRole };
}

/** Two-way replication between the photo buckets. */
function createReplication(
    regions: Record<RegionKey, RegionContext>,
    photos: Record<RegionKey, PrivateBucket>,
): aws.iam.Role {
    const provider = regions.east.provider; // IAM is global
    const role = new aws.iam.Role(
        `${PROJECT}-photos-replication`,
        {
            name: `${PROJECT}-photos-replication`,
            description: "S3 replicates photos between the regional photo buckets",
            assumeRolePolicy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Effect: "Allow",
                        Principal: { Service: "s3.amazonaws.com" },
                        Action: "sts:AssumeRole",
                    },
                ],
            }),
        },
        { provider },
    );
    const arns = [photos.east.bucket.arn, photos.west.bucket.arn];
    new aws.iam.RolePolicy(
        `${PROJECT}-photos-replication`,
        {
            role: role.id,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Sid: "ReadReplicationSource",
                        Effect: "Allow",
                        Action: ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                        Resource: arns,
                    },
                    {
                        Sid: "ReadSourceVersions",
                        Effect: "Allow",
                        Action: [
                            "s3:GetObjectVersionForReplication",
                            "s3:GetObjectVersionAcl",
                            "s3:GetObjectVersionTagging",
                        ],
                        Resource: arns.map((arn) => pulumi.interpolate`${arn}/*`),
                    },
                    {
                        Sid: "WriteReplicas",
                        Effect: "Allow",
                        Action: ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                        Resource: arns.map((arn) => pulumi.interpolate`${arn}/*`),
                    },
                ],
            }),
        },
        { provider },
    );

    for (const [src, dst] of [
        [regions.east, regions.west],
        [regions.west, regions.east],
    ] as const) {
        new aws.s3.BucketReplicationConfig(
            `${PROJECT}-photos-replication-${src.region}`,
            {
                bucket: photos[src.key].bucket.id,
                role: role.arn,
                rules: [
                    {
                        id: `to-${dst.region}`,
                        status: "Enabled",
                        priority: 1,
                        filter: { prefix: "" },
                        deleteMarkerReplication: { status: "Enabled" },
                        sourceSelectionCriteria: { replicaModifications: { status: "Enabled" } },
                        destination: {
                            bucket: photos[dst.key].bucket.arn,
                            storageClass: "STANDARD",
                        },
                    },
                ],
            },
            {
                provider: src.provider,
                dependsOn: [photos.east.versioning, photos.west.versioning],
            },
        );
    }
    return role;
}

/**
 * Lets the CloudFront distribution (and nothing else) read the frontend bucket, through
 * its origin access control. ListBucket makes a missing file a 404 rather than a 403.
 */
export function allowCloudFrontRead(args: {
    frontend: PrivateBucket;
    distributionArn: pulumi.Input<string>;
    provider: aws.Provider;
}): aws.s3.BucketPolicy {
    const { frontend, distributionArn, provider } = args;
    return new aws.s3.BucketPolicy(
        `${PROJECT}-frontend-policy`,
        {
            bucket: frontend.bucket.id,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Sid: "CloudFrontReadObjects",
                        Effect: "Allow",
                        Principal: { Service: "cloudfront.amazonaws.com" },
                        Action: "s3:GetObject",
                        Resource: pulumi.interpolate`${frontend.bucket.arn}/*`,
                        Condition: { StringEquals: { "AWS:SourceArn": distributionArn } },
                    },
                    {
                        Sid: "CloudFrontListForNotFound",
                        Effect: "Allow",
                        Principal: { Service: "cloudfront.amazonaws.com" },
                        Action: "s3:ListBucket",
                        Resource: frontend.bucket.arn,
                        Condition: { StringEquals: { "AWS:SourceArn": distributionArn } },
                    },
                ],
            }),
        },
        // A policy can only be attached once public access blocking is in place.
        { provider, dependsOn: [frontend.publicAccessBlock] },
    );
}
