#!/usr/bin/env node
// `npx coditect` from a checkout (the root package.json's bin): runs the TypeScript source
// through tsx, so it is never stale. The published package's bin is the bundle instead.
import { register } from "tsx/esm/api";

register();
await import("../index.ts");
