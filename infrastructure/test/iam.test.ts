// IAM: the Lambda execution roles and the GitHub Actions deployment role.

import * as assert from "node:assert/strict";
import { mainBranchSubject } from "../src/iam";
import { ACCOUNT_ID, byName, LoadedProgram, loadProgram, ofType, policyOf, TEST_CONFIG, ZONE_ID } from "./mocks";

const REGIONS = ["us-east-1", "us-east-2"] as const;

/** Statements of a policy that allow an action (exact match or a matching wildcard). */
function allowing(policy: any, action: string): any[] {
    return policy.Statement.filter((s: any) => {
        const actions: string[] = [].concat(s.Action);
        return (
            s.Effect === "Allow" &&
            actions.some((a) => a === action || (a.endsWith("*") && action.startsWith(a.slice(0, -1))))
        );
    });
}

function resourcesFor(policy: any, action: string): string[] {
    return allowing(policy, action).flatMap((s: any) => [].concat(s.Resource));
}

describe("IAM", () => {
    let program: LoadedProgram;
    before(async () => {
        program = await loadProgram();
    });

    describe("Lambda execution roles", () => {
        const KINDS = ["api", "jobs"] as const;
        const roleOf = (kind: string, region: string) => byName(program, "aws:iam/role:Role", `home-inventory-${kind}-${region}`);
        const policyFor = (kind: string, region: string) =>
            policyOf(byName(program, "aws:iam/rolePolicy:RolePolicy", `home-inventory-${kind}-${region}`));
        const each = (f: (kind: string, region: string) => void) => {
            for (const kind of KINDS) {
                for (const region of REGIONS) {
                    f(kind, region);
                }
            }
        };

        it("are assumed by Lambda only, one per function", () => {
            each((kind, region) => {
                const role = roleOf(kind, region);
                const trust = policyOf(role, "assumeRolePolicy");
                assert.deepEqual(trust.Statement, [
                    { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
                ]);
                const fn = byName(program, "aws:lambda/function:Function", `home-inventory-${kind}-${region}`);
                assert.equal(fn.inputs.role, role.state.arn);
                assert.equal(role.inputs.managedPolicyArns, undefined, "no managed policies");
            });
            const lambdaRoles = ofType(program, "aws:iam/role:Role").filter((r) => policyOf(r, "assumeRolePolicy").Statement[0].Principal.Service === "lambda.amazonaws.com");
            assert.equal(lambdaRoles.length, 4);
        });

        it("may connect to both clusters as `app`, never as admin", () => {
            const clusterArns = ofType(program, "aws:dsql/cluster:Cluster").map((c) => c.state.arn).sort();
            each((kind, region) => {
                const policy = policyFor(kind, region);
                assert.deepEqual(resourcesFor(policy, "dsql:DbConnect").sort(), clusterArns, `${kind} ${region}`);
                assert.deepEqual(allowing(policy, "dsql:DbConnectAdmin"), []);
            });
        });

        it("may read, write and delete objects of its own region's photo bucket only", () => {
            each((kind, region) => {
                const policy = policyFor(kind, region);
                const bucket = `arn:aws:s3:::home-inventory-photos-${ACCOUNT_ID}-${region}`;
                for (const action of ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]) {
                    assert.deepEqual(resourcesFor(policy, action), [`${bucket}/*`], `${kind} ${region} ${action}`);
                }
                assert.deepEqual(resourcesFor(policy, "s3:ListBucket"), [bucket]);
                const s3Resources = policy.Statement.filter((s: any) => [].concat(s.Action).some((a: string) => a.startsWith("s3:")))
                    .flatMap((s: any) => [].concat(s.Resource));
                for (const r of s3Resources) {
                    assert.ok(r === bucket || r === `${bucket}/*`, `${kind} ${region} reaches ${r}`);
                }
            });
        });

        it("may write its own log group only", () => {
            each((kind, region) => {
                const group = `arn:aws:logs:${region}:${ACCOUNT_ID}:log-group:/aws/lambda/home-inventory-${kind}-${region}`;
                for (const action of ["logs:PutLogEvents", "logs:CreateLogStream"]) {
                    assert.deepEqual(resourcesFor(policyFor(kind, region), action).sort(), [group, `${group}:*`], `${kind} ${region}`);
                }
            });
        });

        it("lets the API invoke its own region's jobs function, and nothing else", () => {
            for (const region of REGIONS) {
                const jobs = byName(program, "aws:lambda/function:Function", `home-inventory-jobs-${region}`);
                const policy = policyFor("api", region);
                assert.deepEqual(resourcesFor(policy, "lambda:InvokeFunction"), [jobs.state.arn]);
                const lambdaActions = policy.Statement.flatMap((s: any) => [].concat(s.Action)).filter((a: string) => a.startsWith("lambda:"));
                assert.deepEqual(lambdaActions, ["lambda:InvokeFunction"]);
            }
        });

        it("lets the jobs function invoke nothing", () => {
            for (const region of REGIONS) {
                const lambdaActions = policyFor("jobs", region)
                    .Statement.flatMap((s: any) => [].concat(s.Action))
                    .filter((a: string) => a.startsWith("lambda:"));
                assert.deepEqual(lambdaActions, [], region);
            }
        });

        it("has no wildcard action or resource", () => {
            each((kind, region) => {
                for (const s of policyFor(kind, region).Statement) {
                    for (const a of [].concat(s.Action) as string[]) {
                        assert.ok(!a.includes("*"), `${kind} ${region}: action ${a}`);
                    }
                    for (const r of [].concat(s.Resource) as string[]) {
                        assert.notEqual(r, "*", `${kind} ${region}: resource *`);
                    }
                }
            });
        });
    });

    describe("GitHub Actions", () => {
        const role = () => byName(program, "aws:iam/role:Role", "home-inventory-github-actions");
        const permissions = () => policyOf(byName(program, "aws:iam/rolePolicy:RolePolicy", "home-inventory-github-actions"));

        it("registers GitHub's OIDC provider for the STS audience", () => {
            const providers = ofType(program, "aws:iam/openIdConnectProvider:OpenIdConnectProvider");
            assert.equal(providers.length, 1);
            assert.equal(providers[0].inputs.url, "https://token.actions.githubusercontent.com");
            assert.deepEqual(providers[0].inputs.clientIdLists, ["sts.amazonaws.com"]);
        });

        it("trusts only main-branch runs of the configured repository", () => {
            const provider = ofType(program, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")[0];
            const trust = policyOf(role(), "assumeRolePolicy");
            assert.equal(trust.Statement.length, 1);
            const [st] = trust.Statement;
            assert.equal(st.Effect, "Allow");
            assert.equal(st.Action, "sts:AssumeRoleWithWebIdentity");
            assert.deepEqual(st.Principal, { Federated: provider.state.arn });
            assert.deepEqual(st.Condition, {
                StringEquals: {
                    "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                    "token.actions.githubusercontent.com:sub": `repo:${TEST_CONFIG.githubRepo}:ref:refs/heads/main`,
                },
            });
            assert.equal(mainBranchSubject("o/r"), "repo:o/r:ref:refs/heads/main");
        });

        it("can use the Pulumi state bucket and the secrets key alias", () => {
            const p = permissions();
            assert.deepEqual(resourcesFor(p, "s3:ListBucket").filter((r) => r.includes("pulumi")), [
                "arn:aws:s3:::home-inventory-pulumi-state",
            ]);
            assert.deepEqual(resourcesFor(p, "s3:PutObject").filter((r) => r.includes("pulumi")), [
                "arn:aws:s3:::home-inventory-pulumi-state/*",
            ]);
            const kms = allowing(p, "kms:Decrypt");
            assert.equal(kms.length, 1);
            assert.deepEqual(kms[0].Condition, {
                "ForAnyValue:StringEquals": { "kms:ResourceAliases": "alias/pulumi-home-inventory" },
            });
        });

        it("can update the API and jobs functions of both regions and pass only their roles to Lambda", () => {
            const p = permissions();
            const fns = ofType(program, "aws:lambda/function:Function");
            assert.equal(fns.length, 4);
            const fnArns = fns.map((f) => f.state.arn).sort();
            for (const action of ["lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:GetFunction"]) {
                assert.deepEqual(resourcesFor(p, action).sort(), fnArns, action);
            }
            assert.deepEqual(allowing(p, "lambda:CreateFunction"), []);
            assert.deepEqual(allowing(p, "lambda:AddPermission"), []);
            assert.deepEqual(allowing(p, "lambda:InvokeFunction"), []);
            assert.deepEqual(allowing(p, "lambda:PutFunctionConcurrency"), []);
            const pass = allowing(p, "iam:PassRole");
            assert.equal(pass.length, 1);
            assert.deepEqual(pass[0].Resource.sort(), [
                `arn:aws:iam::${ACCOUNT_ID}:role/home-inventory-api-us-east-1`,
                `arn:aws:iam::${ACCOUNT_ID}:role/home-inventory-api-us-east-2`,
                `arn:aws:iam::${ACCOUNT_ID}:role/home-inventory-jobs-us-east-1`,
                `arn:aws:iam::${ACCOUNT_ID}:role/home-inventory-jobs-us-east-2`,
            ]);
            assert.deepEqual(pass[0].Condition, { StringEquals: { "iam:PassedToService": "lambda.amazonaws.com" } });
        });

        it("can sync the frontend bucket and invalidate the distribution", () => {
            const p = permissions();
            const frontend = `arn:aws:s3:::home-inventory-frontend-${ACCOUNT_ID}`;
            for (const action of ["s3:PutObject", "s3:DeleteObject", "s3:GetObject"]) {
                assert.ok(resourcesFor(p, action).includes(`${frontend}/*`), action);
            }
            assert.ok(resourcesFor(p, "s3:ListBucket").includes(frontend));
            const distribution = ofType(program, "aws:cloudfront/distribution:Distribution")[0];
            assert.deepEqual(resourcesFor(p, "cloudfront:CreateInvalidation"), [distribution.state.arn]);
        });

        it("can connect to the clusters as admin to run migrations", () => {
            const clusterArns = ofType(program, "aws:dsql/cluster:Cluster").map((c) => c.state.arn).sort();
            assert.deepEqual(resourcesFor(permissions(), "dsql:DbConnectAdmin").sort(), clusterArns);
        });

        it("can read the hosted zone it looks up, and nothing else in Route 53", () => {
            const p = permissions();
            assert.deepEqual(resourcesFor(p, "route53:GetHostedZone"), [`arn:aws:route53:::hostedzone/${ZONE_ID}`]);
            assert.deepEqual(allowing(p, "route53:ChangeResourceRecordSets"), []);
        });

        it("cannot widen its own access or touch other photo data", () => {
            const p = permissions();
            for (const action of [
                "iam:CreateRole",
                "iam:PutRolePolicy",
                "iam:AttachRolePolicy",
                "iam:UpdateAssumeRolePolicy",
                "sts:AssumeRole",
                "dsql:DeleteCluster",
                "s3:PutBucketPolicy",
            ]) {
                assert.deepEqual(allowing(p, action), [], `${action} is allowed`);
            }
            const photoResources = p.Statement.flatMap((s: any) => [].concat(s.Resource)).filter(
                (r: unknown) => typeof r === "string" && r.includes("photos"),
            );
            assert.deepEqual(photoResources, []);
            for (const s of p.Statement) {
                for (const a of [].concat(s.Action) as string[]) {
                    assert.ok(!a.endsWith("*"), `wildcard action ${a}`);
                }
            }
        });
    });
});
