/** Request fields shared by several routes, with the limits of docs/api.md §3. */
import * as z from "zod";
import { hasControlChars } from "../text";

export const licenseKey = z.string().min(1).max(50);
/** The CLI sends 64 hex chars; other clients may send their own opaque id of up to 64 chars. */
export const hardwareId = z
	.string()
	.min(1)
	.max(64)
	.regex(/^[A-Za-z0-9._:-]+$/);
const printable = (max: number) =>
	z
		.string()
		.max(max)
		.refine((s) => !hasControlChars(s), "control characters are not allowed");
export const hostname = printable(255);
export const platform = printable(32);
export const email = z.string().max(254).pipe(z.email());
/** Routes that take no body still refuse one with fields in it: strict everywhere (docs/api.md §3). */
export const NoBody = z.strictObject({});
