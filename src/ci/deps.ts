import type { RequestMeta } from "../audit/log";
import type { Config } from "../config";
import type { Database } from "../db/client";

/** What every CI use case needs; built per request (src/services.ts). */
export interface CiDeps {
	db: Database;
	config: Config;
	meta: RequestMeta;
}
