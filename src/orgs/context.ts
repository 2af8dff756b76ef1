import type { Mailer } from "../accounts/mailer";
import type { RequestMeta } from "../audit/log";
import type { Config } from "../config";
import type { Database } from "../db/client";
import type { Licenses } from "../licenses/index";

/** What every org use case needs for one request. */
export interface OrgContext {
	db: Database;
	config: Config;
	meta: RequestMeta;
	mailer: Mailer;
	/** Frees a removed member's machines (src/licenses is the only writer of activations). */
	licenses: Licenses;
	defer: (work: Promise<unknown>) => void;
	now(): Date;
}
