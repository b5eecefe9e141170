package io.tollgate.gateway;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/** The gateway knows the ledger only by the messages in contracts, never by its classes. */
@AnalyzeClasses(
    packages = "io.tollgate.gateway",
    importOptions = ImportOption.DoNotIncludeTests.class)
class GatewayArchitectureTest {

  @ArchTest
  static final ArchRule gatewayDoesNotSeeTheLedger =
      noClasses()
          .that()
          .resideInAPackage("io.tollgate.gateway..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              "io.tollgate.ledger..", "io.tollgate.projections..", "org.axonframework..");
}
