package io.switchboard.adapter.support;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.PropertySource;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.core.KafkaAdmin;

/**
 * What every adapter (and the router) gets by depending on this module: the {@code kafka} health
 * component for its listeners, and the operational defaults of {@code switchboard-adapter.properties}
 * (Prometheus endpoint, k8s probes, observation of Boot's Kafka template, W3C trace propagation,
 * sampling). In one process (standalone) the one component covers every listener container.
 */
@AutoConfiguration(afterName = "org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration")
@PropertySource("classpath:switchboard-adapter.properties")
public class AdapterSupportAutoConfiguration {

    @Bean("kafkaHealthIndicator")
    @ConditionalOnMissingBean(name = "kafkaHealthIndicator")
    ConsumerHealthIndicator kafkaHealthIndicator(KafkaAdmin admin, KafkaListenerEndpointRegistry registry) {
        return new ConsumerHealthIndicator(admin, registry);
    }
}
