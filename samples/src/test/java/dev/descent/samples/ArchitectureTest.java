package dev.descent.samples;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Module rules of ARCHITECTURE.md: the public API is {@code dev.descent.sdk..} plus the event records it
 * re-exports ({@code dev.descent.engine.event}); monitoring and every sample (the embedded service and the whole
 * command line) use nothing else of Descent, and the engine depends on nothing above it.
 */
class ArchitectureTest {
    private static final String[] PUBLIC_API = {"dev.descent.sdk..", "dev.descent.engine.event..",
        "dev.descent.monitoring..", "dev.descent.samples..", "java..", "javax..", "io.netty..", "com.fasterxml..",
        "io.micrometer..", "io.prometheus..", "picocli..", "org.slf4j..", "org.jfree..", "org.joml.."};
    private static JavaClasses all;

    @BeforeAll
    static void importClasses() {
        ClassFileImporter importer = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS);
        // In a reactor build the sibling modules' classes are on the class path; when only this module is built
        // they come from the local repository, so also read the sibling build folders when present.
        java.util.List<java.nio.file.Path> siblings = java.util.stream.Stream.of("engine", "sdk", "monitoring")
                .map(m -> java.nio.file.Path.of("..", m, "target", "classes"))
                .filter(java.nio.file.Files::isDirectory).toList();
        all = siblings.isEmpty() ? importer.importPackages("dev.descent")
                : importer.importPaths(java.util.stream.Stream.concat(siblings.stream(),
                        java.util.stream.Stream.of(java.nio.file.Path.of("target", "classes"))).toList());
    }

    @Test
    void monitoringShouldUseOnlyThePublicSdk() {
        classes().that().resideInAPackage("dev.descent.monitoring..").should().onlyDependOnClassesThat()
                .resideInAnyPackage(PUBLIC_API).check(all);
    }

    @Test
    void theEmbeddedServiceShouldUseOnlyThePublicSdk() {
        classes().that().resideInAPackage("dev.descent.samples.service..").should().onlyDependOnClassesThat()
                .resideInAnyPackage(PUBLIC_API).check(all);
    }

    @Test
    void samplesShouldUseOnlyThePublicSdk() {
        classes().that().resideInAPackage("dev.descent.samples..").should().onlyDependOnClassesThat()
                .resideInAnyPackage(PUBLIC_API).check(all);
    }

    @Test
    void engineShouldDependOnNothingAboveIt() {
        noClasses().that().resideInAPackage("dev.descent.engine..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.descent.sdk..", "dev.descent.monitoring..", "dev.descent.samples..")
                .check(all);
    }

    @Test
    void sdkShouldNotDependOnMonitoringOrSamples() {
        noClasses().that().resideInAPackage("dev.descent.sdk..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.descent.monitoring..", "dev.descent.samples..").check(all);
    }
}
