package io.switchboard;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

/** Module boundaries, checked on the compiled classes of every module (they are all on this module's class path). */
class ArchitectureTest {

    static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.switchboard");
    }

    @Test
    void adaptersDependOnTheContractOnly_neverOnRouterStoreOrApi() {
        ArchRule rule = noClasses().that().resideInAPackage("io.switchboard.channel..")
                .should().dependOnClassesThat().resideInAnyPackage("io.switchboard.router..", "io.switchboard.api..",
                        "io.switchboard.store..", "io.switchboard.standalone..")
                .because("channel owners deploy adapters alone, against Kafka and inbox-contract only");
        rule.check(classes);
    }

    @Test
    void adapterSupportIsSpringOnly_soAdaptersMayUseIt() {
        // the one switchboard module adapters may depend on besides inbox-contract: it must not pull the others in
        ArchRule rule = noClasses().that().resideInAPackage("io.switchboard.adapter..")
                .should().dependOnClassesThat().resideInAnyPackage("io.switchboard.router..", "io.switchboard.api..",
                        "io.switchboard.store..", "io.switchboard.standalone..", "io.switchboard.channel..")
                .because("adapter-support is shared by every adapter deployed alone");
        rule.check(classes);
    }

    @Test
    void normalizersArePlainJava() {
        ArchRule rule = noClasses().that().resideInAnyPackage("io.switchboard.router.normalize..",
                        "io.switchboard.router.telegram..", "io.switchboard.router.email..", "io.switchboard.router.vk..",
                        "io.switchboard.router.facebook..", "io.switchboard.router.phone..", "io.switchboard.router.webform..")
                .or().haveSimpleNameEndingWith("Normalizer")
                .should().dependOnClassesThat().resideInAnyPackage("org.springframework..", "org.apache.kafka..",
                        "com.mongodb..", "org.bson..", "de.bwaldvogel..")
                .because("normalizers are pure functions of a raw event, tested on fixture files and replayable");
        rule.check(classes);
    }

    @Test
    void theContractHasNoSpring() {
        noClasses().that().resideInAPackage("io.switchboard.contract..")
                .should().dependOnClassesThat().resideInAnyPackage("org.springframework..", "org.apache.kafka..")
                .check(classes);
    }

    @Test
    void theRouterAndTheApiDoNotDependOnEachOther() {
        noClasses().that().resideInAPackage("io.switchboard.router..")
                .should().dependOnClassesThat().resideInAPackage("io.switchboard.api..").check(classes);
        noClasses().that().resideInAPackage("io.switchboard.api..")
                .should().dependOnClassesThat().resideInAPackage("io.switchboard.router..").check(classes);
    }

    @Test
    void everyNormalizerIsNamedForItsChannel() {
        classes().that().implement("io.switchboard.router.normalize.Normalizer")
                .should().haveSimpleNameEndingWith("Normalizer").check(classes);
        assertThat(classes.stream().filter(c -> c.getSimpleName().endsWith("Normalizer") && !c.isInterface())).isNotEmpty();
    }
}
