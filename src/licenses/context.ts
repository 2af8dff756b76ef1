import type { RequestMeta } from "../audit/log";
import type { Config } from "../config";
import type { Database } from "../db/client";

/** What every license use case needs for one request. */
export interface LicenseContext {
	db: Database;
	config: Config;
	meta: RequestMeta;
	now(): Date;
}
