#!/bin/sh
# CPU profile of validate (ours) under wrk -t2 -c16 for 8 s, 2,000 keys: writes /tmp/prof/*.cpuprofile;
# then: node bench/cpu-profile-groups.cjs /tmp/prof/*.cpuprofile
# `bench/profile-validate.sh reference` profiles bench/reference-node.ts the same way.
cd "$(dirname "$0")/.."
export PATH=$PWD/node_modules/.bin:$PATH
DB=coditect_prof_$$
psql -h 127.0.0.1 -U postgres -qc "create database $DB"
eval "$(node --import tsx -e 'import("./bench/lib.ts").then(async m=>{const s=await m.benchSecrets();for(const[k,v]of Object.entries(s))console.log(`export ${k}=${JSON.stringify(v).replace(/\$/g,"\\$")}`)})' )"
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB DATABASE_POOL_MAX=20 PUBLIC_URL=http://127.0.0.1 NODE_ENV=production
rm -rf /tmp/prof && mkdir -p /tmp/prof
SERVER=bench/serve-node.ts
# The reference migrates nothing itself: the schema comes first.
[ "$1" = reference ] && SERVER=bench/reference-node.ts && node --import tsx scripts/migrate.ts
node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx $SERVER > /tmp/prof/url &
PID=$!
sleep 6
URL=$(node -e 'console.log(JSON.parse(require("fs").readFileSync("/tmp/prof/url","utf8").split("\n")[0]).url)')
node --import tsx -e 'import("./bench/lib.ts").then(async m=>{const s=await m.seedLicenses(process.env.DATABASE_URL,process.env.LICENSE_KEY_PEPPER,2000);await m.wrkPostScript("/tmp/prof.lua",s.map(x=>JSON.stringify({license_key:x.key,hardware_id:x.hw})))})'
wrk -t2 -c16 -d8s -s /tmp/prof.lua $URL/api/v1/licenses/validate | grep Req
kill -TERM $PID; sleep 3; kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true
psql -h 127.0.0.1 -U postgres -qc "drop database $DB with (force)"
ls /tmp/prof
