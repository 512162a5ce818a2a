package io.switchboard.adapter.support;

import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.kafka.support.ProducerListener;

/**
 * The ingest counters ({@link IngestMetrics}) on Boot's Kafka template. Runs before Boot's Kafka
 * auto-configuration, whose {@code kafkaProducerListener} (a plain logging listener) then backs off and
 * the template takes this one, which logs the same and counts. Every adapter publishes its raw events
 * through that template (the web form through its own, given the same listener).
 */
@AutoConfiguration(beforeName = "org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration")
public class AdapterProducerAutoConfiguration {

    @Bean
    IngestMetrics ingestMetrics(ObjectProvider<MeterRegistry> registry) {
        return new IngestMetrics(registry);
    }

    @Bean
    ProducerListener<Object, Object> kafkaProducerListener(IngestMetrics ingest) {
        return ingest.listener();
    }
}
