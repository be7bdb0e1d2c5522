package dev.descent.sdk;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The engine depends on nothing above it (samples and monitoring are checked in descent-samples). */
class EngineIndependenceTest {
    @Test
    void engineShouldNotDependOnSdkMonitoringOrSamples() {
        JavaClasses classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.descent");
        noClasses().that().resideInAPackage("dev.descent.engine..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.descent.sdk..", "dev.descent.monitoring..", "dev.descent.samples..")
                .check(classes);
    }
}
