import { Resolver } from "type-graphql";

/** Merchants, business circles and visits. (Being built.) */
@Resolver()
export class MerchantsResolver {}
