import { Resolver } from "type-graphql";

/** Campaigns, promotions and redemptions. (Being built.) */
@Resolver()
export class CampaignsResolver {}
