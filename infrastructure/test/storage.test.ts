// S3 buckets: nothing public, encryption, versioning, CORS, lifecycle, replication.

import * as assert from "node:assert/strict";
import { ACCOUNT_ID, LoadedProgram, loadProgram, ofType, policyOf, RecordedResource, TEST_CONFIG } from "./mocks";

function forBucket(program: LoadedProgram, type: string, bucket: RecordedResource): RecordedResource[] {
    return ofType(program, type).filter((r) => r.inputs.bucket === bucket.id);
}

describe("storage (S3)", () => {
    let program: LoadedProgram;
    let buckets: RecordedResource[];
    let photos: RecordedResource[];
    before(async () => {
        program = await loadProgram();
        buckets = ofType(program, "aws:s3/bucket:Bucket");
        photos = buckets.filter((b) => b.name.startsWith("home-inventory-photos-"));
    });

    it("has the frontend bucket and one photo bucket per serving region", () => {
        assert.deepEqual(buckets.map((b) => b.state.bucket).sort(), [
            `home-inventory-frontend-${ACCOUNT_ID}`,
            `home-inventory-photos-${ACCOUNT_ID}-us-east-1`,
            `home-inventory-photos-${ACCOUNT_ID}-us-east-2`,
        ]);
        assert.deepEqual(photos.map((b) => b.region).sort(), ["us-east-1", "us-east-2"]);
    });

    it("blocks all public access on every bucket", () => {
        for (const b of buckets) {
            const blocks = forBucket(program, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", b);
            assert.equal(blocks.length, 1, `${b.name} has no public access block`);
            const { blockPublicAcls, blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets } = blocks[0].inputs;
            assert.deepEqual(
                { blockPublicAcls, blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets },
                { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
                b.name,
            );
            assert.equal(blocks[0].region, b.region);
        }
    });

    it("grants nothing through ACLs", () => {
        for (const b of buckets) {
            assert.equal(b.inputs.acl, undefined, `${b.name} sets an ACL`);
            const ownership = forBucket(program, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", b);
            assert.equal(ownership.length, 1, b.name);
            assert.equal(ownership[0].inputs.rule.objectOwnership, "BucketOwnerEnforced", b.name);
        }
        assert.equal(ofType(program, "aws:s3/bucketAcl:BucketAcl").length, 0);
    });

    it("has no bucket policy that lets anyone in", () => {
        for (const p of ofType(program, "aws:s3/bucketPolicy:BucketPolicy")) {
            for (const st of policyOf(p).Statement) {
                assert.notEqual(st.Principal, "*", `${p.name}: public principal`);
                assert.notEqual(st.Principal?.AWS, "*", `${p.name}: public principal`);
                assert.ok(st.Condition, `${p.name}: statement ${st.Sid} has no condition`);
            }
        }
    });

    it("encrypts and versions every bucket", () => {
        for (const b of buckets) {
            const sse = forBucket(
                program,
                "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                b,
            );
            assert.equal(sse.length, 1, `${b.name} has no default encryption`);
            assert.equal(sse[0].inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm, "AES256");
            const versioning = forBucket(program, "aws:s3/bucketVersioning:BucketVersioning", b);
            assert.equal(versioning.length, 1, `${b.name} is not versioned`);
            assert.equal(versioning[0].inputs.versioningConfiguration.status, "Enabled");
        }
    });

    it("cleans up incomplete uploads and expires old versions", () => {
        for (const b of buckets) {
            const lifecycle = forBucket(program, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", b);
            assert.equal(lifecycle.length, 1, `${b.name} has no lifecycle`);
            const rules: any[] = lifecycle[0].inputs.rules;
            const abort = rules.find((r) => r.abortIncompleteMultipartUpload);
            assert.ok(abort, `${b.name}: incomplete multipart uploads are never aborted`);
            assert.equal(abort.status, "Enabled");
            assert.ok(abort.abortIncompleteMultipartUpload.daysAfterInitiation <= 7);
            const noncurrent = rules.find((r) => r.noncurrentVersionExpiration);
            assert.ok(noncurrent, `${b.name}: noncurrent versions never expire`);
            assert.equal(noncurrent.status, "Enabled");
            assert.ok(noncurrent.noncurrentVersionExpiration.noncurrentDays >= 7);
            const abandoned = rules.find((r) => r.filter?.prefix === "uploads/");
            assert.ok(abandoned, `${b.name}: uploads never completed are kept for ever`);
            assert.equal(abandoned.status, "Enabled");
            assert.ok(abandoned.expiration.days >= 1 && abandoned.expiration.days <= 7);
        }
    });

    it("expires import uploads and job files after 8 days, and their old versions a day later", () => {
        for (const b of buckets) {
            const [lifecycle] = forBucket(program, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", b);
            const rules: any[] = lifecycle.inputs.rules;
            for (const prefix of ["imports/", "jobs/"]) {
                const found = rules.filter((r) => r.filter?.prefix === prefix);
                if (!photos.includes(b)) {
                    assert.deepEqual(found, [], `${b.name} holds no job files`);
                    continue;
                }
                assert.equal(found.length, 1, `${b.name}: no rule for ${prefix}`);
                const [rule] = found;
                assert.equal(rule.status, "Enabled");
                // The app keeps them 7 days after the job finished; S3 counts from creation.
                assert.deepEqual(rule.expiration, { days: 8 }, `${b.name} ${prefix}`);
                assert.deepEqual(rule.noncurrentVersionExpiration, { noncurrentDays: 1 }, `${b.name} ${prefix}`);
            }
            assert.equal(new Set(rules.map((r) => r.id)).size, rules.length, `${b.name}: rule ids repeat`);
        }
    });

    it("lets the site, and only the site, PUT and GET photos with presigned URLs", () => {
        for (const b of photos) {
            const cors = forBucket(program, "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration", b);
            assert.equal(cors.length, 1, `${b.name} has no CORS configuration`);
            const rules: any[] = cors[0].inputs.corsRules;
            assert.equal(rules.length, 1);
            assert.deepEqual(rules[0].allowedOrigins, [`https://${TEST_CONFIG.domainName}`]);
            assert.ok(rules[0].allowedMethods.includes("PUT"));
            assert.ok(rules[0].allowedMethods.includes("GET"));
            assert.ok(!rules[0].allowedMethods.includes("DELETE"));
        }
    });

    it("replicates photos both ways between the regions", () => {
        const configs = ofType(program, "aws:s3/bucketReplicationConfig:BucketReplicationConfig");
        assert.equal(configs.length, 2);
        const role = ofType(program, "aws:iam/role:Role").find((r) => r.name === "home-inventory-photos-replication")!;
        assert.equal(policyOf(role, "assumeRolePolicy").Statement[0].Principal.Service, "s3.amazonaws.com");
        for (const src of photos) {
            const dst = photos.find((p) => p !== src)!;
            const config = configs.find((c) => c.inputs.bucket === src.id);
            assert.ok(config, `${src.name} does not replicate`);
            assert.equal(config.region, src.region);
            assert.equal(config.inputs.role, role.state.arn);
            const [rule] = config.inputs.rules;
            assert.equal(rule.status, "Enabled");
            assert.equal(rule.destination.bucket, dst.state.arn);
            assert.equal(rule.deleteMarkerReplication.status, "Enabled");
            assert.equal(rule.sourceSelectionCriteria.replicaModifications.status, "Enabled");
        }
    });

    it("gives the replication role only the replication actions, on the photo buckets", () => {
        const policy = ofType(program, "aws:iam/rolePolicy:RolePolicy").find(
            (p) => p.name === "home-inventory-photos-replication",
        )!;
        const statements: any[] = policyOf(policy).Statement;
        const actions = statements.flatMap((s) => s.Action).sort();
        assert.deepEqual(actions, [
            "s3:GetObjectVersionAcl",
            "s3:GetObjectVersionForReplication",
            "s3:GetObjectVersionTagging",
            "s3:GetReplicationConfiguration",
            "s3:ListBucket",
            "s3:ReplicateDelete",
            "s3:ReplicateObject",
            "s3:ReplicateTags",
        ]);
        const photoArns = photos.map((p) => p.state.arn);
        for (const s of statements) {
            for (const resource of s.Resource) {
                assert.ok(
                    photoArns.some((arn) => resource === arn || resource === `${arn}/*`),
                    `replication policy reaches ${resource}`,
                );
            }
        }
    });
});
