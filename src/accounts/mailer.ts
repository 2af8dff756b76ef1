/**
 * Outgoing mail: Resend over fetch when RESEND_API_KEY is set; otherwise the message is
 * written to the server log, so `npm start` and `npm run dev` work with no mail setup (the
 * verification code is read from the log).
 */
import type { Settings } from "../env";

export interface Mail {
	to: string;
	subject: string;
	text: string;
}

export interface Mailer {
	/** True when mail leaves the server (not just the log). */
	readonly delivers: boolean;
	send(mail: Mail): Promise<void>;
}

export function mailerFor(settings: Settings): Mailer {
	const key = settings.RESEND_API_KEY;
	if (!key) return logMailer();
	return resendMailer({ apiKey: key, base: settings.RESEND_API_BASE, from: settings.MAIL_FROM });
}

export function logMailer(log: (line: string) => void = (l) => console.log(l)): Mailer {
	return {
		delivers: false,
		async send(mail) {
			log(
				`[mail] to: ${mail.to}\n[mail] subject: ${mail.subject}\n${mail.text.replace(/^/gm, "[mail] ")}`,
			);
		},
	};
}

export function resendMailer(opts: { apiKey: string; base: string; from: string }): Mailer {
	const url = `${opts.base.replace(/\/+$/, "")}/emails`;
	return {
		delivers: true,
		async send(mail) {
			const res = await fetch(url, {
				method: "POST",
				headers: { authorization: `Bearer ${opts.apiKey}`, "content-type": "application/json" },
				body: JSON.stringify({
					from: opts.from,
					to: [mail.to],
					subject: mail.subject,
					text: mail.text,
				}),
			});
			if (!res.ok) {
				// Status only: Resend's error body may quote the message, which can hold a code.
				throw new Error(`mail delivery failed: Resend answered ${res.status}`);
			}
			await res.body?.cancel();
		},
	};
}

export const mails = {
	verificationCode(code: string): Omit<Mail, "to"> {
		return {
			subject: `Your CODITECT verification code: ${code}`,
			text: `Your CODITECT verification code is ${code}.\n\nIt expires in 15 minutes. If you did not sign up, ignore this mail.`,
		};
	},
	alreadyRegistered(): Omit<Mail, "to"> {
		return {
			subject: "You already have a CODITECT account",
			text: "Someone (probably you) tried to sign up with this address, but it already has a CODITECT account.\n\nLog in instead (`coditect login`). If this was not you, no action is needed: nothing was changed.",
		};
	},
	lockout(minutes: number): Omit<Mail, "to"> {
		return {
			subject: "CODITECT: logins to your account are paused",
			text: `There were 5 failed login attempts on your CODITECT account, so logins are refused for ${minutes} minutes.\n\nIf this was not you, someone may be guessing your password: choose a strong, unique one.`,
		};
	},
};
