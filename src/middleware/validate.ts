import type { MiddlewareHandler, ValidationTargets } from "hono";
import { validator } from "hono/validator";
import type { z } from "zod";
import { ApiError } from "../errors";
import { documented } from "../openapi/tags";

/**
 * Hono's validator with a zod schema and the contract's error shape: 400 INVALID_REQUEST naming
 * the offending fields, never echoing their values (zod's messages can quote input, so they
 * stay inside). The parse is synchronous (our schemas have no async checks): @hono/zod-validator
 * used zod's safeParseAsync and awaited a hook besides, five promises a request on validate's
 * hot path for the same answer.
 */
export function validate<T extends z.ZodType, Target extends keyof ValidationTargets>(
	target: Target,
	schema: T,
) {
	const check = (value: unknown): z.output<T> => {
		const result = schema.safeParse(value);
		if (!result.success) throw invalidFields(result.error.issues);
		return result.data;
	};
	const middleware = validator(target, check);
	if (target !== "json") return documented(middleware, { kind: "input", target, schema });
	// A JSON body was read, size-checked, type-checked and parsed by jsonBody (every JSON route
	// runs it first; a GET has none, as Hono's validator sees `{}` there too). Checking that
	// value directly is synchronous: Hono's validator would await c.req.json(), which parses the
	// text again, then await the check and the next layer (six promises a validate).
	const json: MiddlewareHandler<{ Variables: { jsonBody: unknown } }> = (c, next) => {
		const body = c.get("jsonBody"); // `null` is a body (and a 400); unset is none
		c.req.addValidatedData("json", check(body === undefined ? {} : body) as object);
		return next();
	};
	return documented(json as unknown as typeof middleware, { kind: "input", target, schema });
}

/** 400 INVALID_REQUEST naming the fields of zod's issues (also for input no validator reads). */
export function invalidFields(issues: readonly z.core.$ZodIssue[]): ApiError {
	const fields = new Set<string>();
	for (const issue of issues) {
		if (issue.code === "unrecognized_keys") {
			for (const key of issue.keys) fields.add(joinPath([...issue.path, key]));
		} else {
			fields.add(joinPath(issue.path) || "(body)");
		}
	}
	const list = [...fields].slice(0, 20);
	return new ApiError("INVALID_REQUEST", `Invalid or unexpected fields: ${list.join(", ")}.`, {
		extra: { fields: list },
	});
}

function joinPath(path: readonly PropertyKey[]): string {
	// Unknown keys are attacker-chosen: keep them short and printable.
	return path
		.map((p) => (typeof p === "symbol" ? "?" : String(p)))
		.join(".")
		.replace(/[^\x20-\x7e]/g, "?")
		.slice(0, 64);
}
