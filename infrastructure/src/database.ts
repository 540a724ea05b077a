// Aurora DSQL: one multi-region cluster pair, strongly consistent, with a witness region.
//
// Each serving region has its own cluster; the two are peered and share a witness in
// WITNESS_REGION, which keeps a quorum so that either cluster stays writable if the other
// region is lost. Both accept reads and writes (active-active).

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT, RegionContext, RegionKey, WITNESS_REGION } from "./types";

export interface RegionalCluster {
    cluster: aws.dsql.Cluster;
    peering: aws.dsql.ClusterPeering;
    /** Host name the API connects to: <identifier>.dsql.<region>.on.aws */
    endpoint: pulumi.Output<string>;
    arn: pulumi.Output<string>;
}

export type Database = Record<RegionKey, RegionalCluster>;

/** Public endpoint of a DSQL cluster. */
export function dsqlEndpoint(identifier: pulumi.Input<string>, region: string): pulumi.Output<string> {
    return pulumi.interpolate`${identifier}.dsql.${region}.on.aws`;
}

export function createDatabase(regions: Record<RegionKey, RegionContext>): Database {
    const clusters = {} as Record<RegionKey, aws.dsql.Cluster>;
    for (const ctx of [regions.east, regions.west]) {
        clusters[ctx.key] = new aws.dsql.Cluster(
            `${PROJECT}-db-${ctx.region}`,
            {
                deletionProtectionEnabled: true,
                multiRegionProperties: { witnessRegion: WITNESS_REGION },
                tags: { Name: `${PROJECT}-${ctx.region}` },
            },
            // The data outlives any single deployment: never replace or drop it by accident.
            { provider: ctx.provider, protect: true },
        );
    }

    const peer = (self: RegionContext, other: RegionContext): aws.dsql.ClusterPeering =>
        new aws.dsql.ClusterPeering(
            `${PROJECT}-db-peering-${self.region}`,
            {
                identifier: clusters[self.key].identifier,
                clusters: [clusters[other.key].arn],
                witnessRegion: WITNESS_REGION,
            },
            { provider: self.provider },
        );

    const result = {} as Database;
    for (const [self, other] of [
        [regions.east, regions.west],
        [regions.west, regions.east],
    ] as const) {
        const cluster = clusters[self.key];
        result[self.key] = {
            cluster,
            peering: peer(self, other),
            endpoint: dsqlEndpoint(cluster.identifier, self.region),
            arn: cluster.arn,
        };
    }
    return result;
}
