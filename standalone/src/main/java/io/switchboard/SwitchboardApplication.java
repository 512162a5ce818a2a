package io.switchboard;

import io.switchboard.standalone.EmbeddedInfrastructure;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.FilterType;

/**
 * The whole product in one process: every adapter, the router and inbox-api, on an embedded
 * Kafka broker and store unless external ones are configured. Each module's own
 * {@code @SpringBootApplication} (its distributed-form entry point) is left out of the scan.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@ComponentScan(basePackages = "io.switchboard",
        excludeFilters = @ComponentScan.Filter(type = FilterType.ANNOTATION, classes = SpringBootApplication.class))
public class SwitchboardApplication {

    public static void main(String[] args) {
        application().run(args);
    }

    public static SpringApplication application() {
        SpringApplication app = new SpringApplication(SwitchboardApplication.class);
        app.addInitializers(new EmbeddedInfrastructure());
        return app;
    }
}
