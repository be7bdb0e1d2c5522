# shellcheck shell=bash
# Sourced by ./descent, scripts/test.sh and .ci/run: selects a JDK 25 (or newer) and exports JAVA_HOME.
# Order: $JAVA_HOME if it is 25+, then `java` on PATH if it is 25+, then the usual install folders.

descent_java_major() { # $1 = path to a java binary; prints its feature version or nothing
  # the JDK's release file names it without starting a JVM (~0.1-0.2 s a candidate); else ask the JVM
  local release major=""
  release="$(dirname "$(dirname "$1")")/release"
  if [ -f "$release" ]; then
    major=$(sed -n 's/^JAVA_VERSION="\{0,1\}\([0-9][0-9]*\).*/\1/p' "$release" | head -1)
  fi
  if [ -n "$major" ]; then
    echo "$major"
  else
    "$1" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2; exit}'
  fi
}

descent_select_jdk() {
  local candidate major
  local -a candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  for candidate in /usr/lib/jvm/temurin-25* /usr/lib/jvm/*-25* /usr/lib/jvm/jdk-25* /usr/lib/jvm/java-25* \
                   /opt/java/openjdk /opt/jdk-25* "$HOME"/.sdkman/candidates/java/25* \
                   /Library/Java/JavaVirtualMachines/*25*/Contents/Home /usr/lib/jvm/*; do
    [ -d "$candidate" ] && candidates+=("$candidate")
  done
  for candidate in "${candidates[@]}"; do
    [ -x "$candidate/bin/java" ] && [ -x "$candidate/bin/javac" ] || continue
    major=$(descent_java_major "$candidate/bin/java")
    major=${major%%.*}
    if [ -n "$major" ] && [ "$major" -ge 25 ] 2>/dev/null; then
      export JAVA_HOME="$candidate"
      # Maven's own Guice calls sun.misc.Unsafe; JDK 25 warns about it on every build unless allowed.
      case " ${MAVEN_OPTS:-} " in
        *sun-misc-unsafe-memory-access*) ;;
        *) export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" ;;
      esac
      return 0
    fi
  done
  cat >&2 <<MSG
descent: no JDK 25 found. Descent needs a JDK 25 or newer (the Vector API and MemorySegment kernels).
  Looked at: \$JAVA_HOME (${JAVA_HOME:-unset}), java on PATH, /usr/lib/jvm/*, /opt, ~/.sdkman.
  Install one (for example Eclipse Temurin 25) and set JAVA_HOME to it, then run this again.
MSG
  return 1
}
