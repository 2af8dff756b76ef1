/** C0 and C1 control characters and DEL: never wanted in names, hostnames or log fields. */
export function isControlChar(code: number): boolean {
	return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
}

export function hasControlChars(s: string): boolean {
	for (let i = 0; i < s.length; i++) if (isControlChar(s.charCodeAt(i))) return true;
	return false;
}

/** `\u001b` → `\x1b`: keeps a crafted value from forging log lines or terminal escapes. */
export function encodeControlChars(s: string): string {
	if (!hasControlChars(s)) return s;
	let out = "";
	for (const ch of s) {
		const code = ch.charCodeAt(0);
		out += isControlChar(code) ? `\\x${code.toString(16).padStart(2, "0")}` : ch;
	}
	return out;
}
