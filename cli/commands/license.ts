import { defineCommand } from "citty";

export default defineCommand({
	meta: { name: "license", description: "Inspect this machine's license" },
	subCommands: {
		status: () => import("./license-status").then((m) => m.default),
	},
});
