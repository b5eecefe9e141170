package io.tollgate.projections;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

@AnalyzeClasses(
    packages = "io.tollgate.projections",
    importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

  /**
   * The views are a function of the ledger's events: never of its aggregate, commands or storage.
   */
  @ArchTest
  static final ArchRule projectionsSeeOnlyTheLedgersEvents =
      noClasses()
          .that()
          .resideInAPackage("io.tollgate.projections..")
          .should()
          .dependOnClassesThat(
              com.tngtech.archunit.base.DescribedPredicate.describe(
                  "ledger classes other than its events and their value types",
                  (com.tngtech.archunit.core.domain.JavaClass type) -> {
                    // an array of events is as good as an event
                    var c = type.getBaseComponentType();
                    return c.getPackageName().startsWith("io.tollgate.ledger")
                        && !c.getName().startsWith("io.tollgate.ledger.account.AccountEvent")
                        && !c.getName().equals("io.tollgate.ledger.pricing.CostType");
                  }));
}
