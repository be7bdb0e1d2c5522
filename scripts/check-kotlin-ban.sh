#!/usr/bin/env bash
# Proves that the parent pom's maven-enforcer rule bans Kotlin anywhere in the dependency tree: builds a
# throw-away module (under target/) that inherits the parent and depends on kotlin-stdlib, and expects the
# build to fail with the ban's message. Exit 0 = the rule fired; 1 = it did not.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=lib/jdk.sh
. scripts/lib/jdk.sh
descent_select_jdk
probe="$root/target/kotlin-ban-check"
mkdir -p "$probe"
cat > "$probe/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <parent>
    <groupId>dev.descent</groupId>
    <artifactId>descent-parent</artifactId>
    <version>0.1.0-SNAPSHOT</version>
    <relativePath>../../pom.xml</relativePath>
  </parent>
  <artifactId>kotlin-ban-check</artifactId>
  <dependencies>
    <!-- Kotlin comes in transitively, the way okhttp 4.x would bring it. -->
    <dependency>
      <groupId>com.squareup.okhttp3</groupId>
      <artifactId>okhttp</artifactId>
      <version>4.12.0</version>
    </dependency>
  </dependencies>
</project>
POM
if out=$(./mvnw -B -ntp -f "$probe/pom.xml" validate 2>&1); then
  echo "kotlin-ban: FAIL — a module depending on okhttp 4 (which pulls org.jetbrains.kotlin) built without error" >&2
  exit 1
fi
if grep -q "Descent is Kotlin-free" <<<"$out" && grep -q "org.jetbrains.kotlin" <<<"$out"; then
  echo "kotlin-ban: PASS (the build is Kotlin-free: a probe module pulling Kotlin through okhttp 4.12.0 was refused by the enforcer, as it must be)"
else
  echo "kotlin-ban: FAIL — the probe build failed, but not because of the Kotlin ban:" >&2
  echo "$out" | tail -30 >&2
  exit 1
fi
