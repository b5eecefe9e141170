package io.tollgate.ledger.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/** The ledger's rules stay plain Java: no Spring, no JPA, no JDBC, no infrastructure. */
@AnalyzeClasses(
    packages = "io.tollgate.ledger",
    importOptions = ImportOption.DoNotIncludeTests.class)
class LedgerArchitectureTest {

  @ArchTest
  static final ArchRule domainHasNoFramework =
      noClasses()
          .that()
          .resideInAnyPackage("io.tollgate.ledger.account..", "io.tollgate.ledger.pricing..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              "org.springframework..",
              "jakarta.persistence..",
              "javax.persistence..",
              "java.sql..",
              "javax.sql..",
              "io.tollgate.ledger.infrastructure..");

  @ArchTest
  static final ArchRule pricingKnowsNothingOfAccounts =
      noClasses()
          .that()
          .resideInAPackage("io.tollgate.ledger.pricing..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("io.tollgate.ledger.account..");
}
