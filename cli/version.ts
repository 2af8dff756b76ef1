/** The CLI's version; test/cli/packaging.test.ts holds it equal to cli/package.json. */
export const VERSION = "1.0.0-pilot.1";
