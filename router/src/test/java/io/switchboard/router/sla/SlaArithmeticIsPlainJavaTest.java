package io.switchboard.router.sla;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The SLA arithmetic (package io.switchboard.router.sla itself) imports no Spring, Kafka or Mongo, and reads no clock. */
class SlaArithmeticIsPlainJavaTest {

    @Test
    void theArithmeticClassesImportNoFrameworkAndReadNoClock() throws IOException {
        Path dir = Path.of("src/main/java/io/switchboard/router/sla");
        List<Path> sources;
        try (Stream<Path> files = Files.list(dir)) {
            sources = files.filter(p -> p.toString().endsWith(".java")).toList();
        }
        assertThat(sources).extracting(p -> p.getFileName().toString())
                .contains("BusinessCalendar.java", "SlaEngine.java", "SlaConfig.java", "SlaPolicy.java", "SlaState.java");
        for (Path source : sources) {
            String text = Files.readString(source);
            assertThat(text).as(source.toString())
                    .doesNotContain("import org.springframework").doesNotContain("import org.apache.kafka")
                    .doesNotContain("import com.mongodb").doesNotContain("import org.bson")
                    .doesNotContain("Instant.now()").doesNotContain("Clock.system").doesNotContain("System.currentTimeMillis");
        }
    }
}
