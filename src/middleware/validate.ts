import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type { z } from "zod";
import { ApiError } from "../errors";
import { documented } from "../openapi/tags";

/**
 * zValidator with the contract's error shape: 400 INVALID_REQUEST naming the offending
 * fields, never echoing their values (zod's messages can quote input, so they stay inside).
 */
export function validate<T extends z.ZodType, Target extends keyof ValidationTargets>(
	target: Target,
	schema: T,
) {
	const validator = zValidator(
		target,
		schema,
		(result) => {
			if (!result.success) throw invalidFields(result.error.issues);
		},
		// Our schemas are synchronous: zod's safeParseAsync (the default) builds a promise chain
		// per check, on validate's hot path. (The cast: TypeScript cannot resolve zod-validator's
		// v3-or-v4 conditional result type for a generic schema.)
		{ validationFunction: (s, value) => s.safeParse(value) as never },
	);
	return documented(validator, { kind: "input", target, schema });
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
