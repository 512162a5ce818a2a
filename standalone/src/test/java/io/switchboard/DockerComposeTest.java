package io.switchboard;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/** docker-compose.yml (the distributed form) has a service for every deployable module, configured by environment only. */
class DockerComposeTest {

    static JsonNode compose() throws Exception {
        Path file = Path.of("..", "docker-compose.yml");
        assertThat(file).exists();
        return new YAMLMapper().readTree(Files.readString(file));
    }

    /** router, inbox-api and channel-*: every module with its own Spring Boot main class. */
    static Set<String> deployableModules() {
        Set<String> modules = new TreeSet<>();
        for (JavaClass c : new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.switchboard")) {
            if (!c.isAnnotatedWith(SpringBootApplication.class)) {
                continue;
            }
            String p = c.getPackageName();
            if (p.startsWith("io.switchboard.channel.")) {
                modules.add("channel-" + p.substring("io.switchboard.channel.".length()).split("\\.")[0]);
            } else if (p.startsWith("io.switchboard.router")) {
                modules.add("router");
            } else if (p.startsWith("io.switchboard.api")) {
                modules.add("inbox-api");
            }
        }
        return modules;
    }

    @Test
    void everyModuleWithAMainClassHasAServiceBuiltFromIt() throws Exception {
        JsonNode services = compose().path("services");
        Set<String> modules = deployableModules();
        assertThat(modules).contains("router", "inbox-api", "channel-telegram");
        for (String module : modules) {
            JsonNode service = services.path(module);
            assertThat(service.isObject()).as("service " + module).isTrue();
            assertThat(service.path("image").asString()).as(module + " image").startsWith("switchboard/" + module + ":");
            JsonNode env = service.path("environment");
            assertThat(env.path("SPRING_KAFKA_BOOTSTRAP_SERVERS").asString()).as(module).isEqualTo("kafka:9092");
            assertThat(env.path("SPRING_MONGODB_URI").asString()).as(module).startsWith("mongodb://mongo:27017/");
            assertThat(service.has("volumes")).as(module + " is configured by environment only, no mounted files").isFalse();
            assertThat(service.path("healthcheck").path("test").toString()).as(module).contains("/actuator/health");
        }
    }

    @Test
    void realKafkaInKraftModeAndMongoAsAReplicaSet_andTwoRouters() throws Exception {
        JsonNode services = compose().path("services");
        assertThat(services.path("kafka").path("image").asString()).startsWith("apache/kafka:");
        assertThat(services.path("kafka").path("environment").path("KAFKA_PROCESS_ROLES").asString()).isEqualTo("broker,controller");
        assertThat(services.path("mongo").path("image").asString()).startsWith("mongo:");
        assertThat(services.path("mongo").path("command").toString()).contains("--replSet");
        List<String> routers = services.propertyNames().stream()
                .filter(n -> services.path(n).path("image").asString().startsWith("switchboard/router:")).toList();
        assertThat(routers).hasSizeGreaterThanOrEqualTo(2);
        assertThat(routers.stream().map(r -> services.path(r).path("environment").path("INBOX_INSTANCE_ID").asString()).distinct())
                .as("each router instance has its own static group membership id").hasSize(routers.size());
    }
}
