package io.switchboard.adapter.support;

import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.PropertySource;
import org.springframework.core.Ordered;
import org.springframework.core.env.Environment;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.core.KafkaAdmin;

/**
 * What every adapter (and the router) gets by depending on this module: the {@code kafka} health
 * component for its listeners, consumer metrics for every listener container factory, the shared topic
 * declarations ({@link SharedTopics}), channel and account in the MDC of webhook requests, and the
 * operational defaults of {@code switchboard-adapter.properties} (Prometheus endpoint, k8s probes,
 * observation of Boot's Kafka template, W3C trace propagation, sampling). In one process (standalone)
 * the one health component covers every listener container. The ingest counters are wired before
 * Boot's Kafka template exists, in {@link AdapterProducerAutoConfiguration}.
 */
@AutoConfiguration(afterName = "org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration")
@PropertySource("classpath:switchboard-adapter.properties")
public class AdapterSupportAutoConfiguration {

    @Bean("kafkaHealthIndicator")
    @ConditionalOnMissingBean(name = "kafkaHealthIndicator")
    ConsumerHealthIndicator kafkaHealthIndicator(KafkaAdmin admin, KafkaListenerEndpointRegistry registry) {
        return new ConsumerHealthIndicator(admin, registry);
    }

    /** {@code switchboard.topics.partitions} (env SWITCHBOARD_TOPICS_PARTITIONS), default 6. */
    @Bean
    @ConditionalOnMissingBean
    SharedTopics sharedTopics(Environment env) {
        return new SharedTopics(env.getProperty("switchboard.topics.partitions", Integer.class, 6));
    }

    /** Static: a post-processor is created before the registry; it looks the registry up when a factory appears. */
    @Bean
    static ConsumerMetrics switchboardConsumerMetrics(ObjectProvider<MeterRegistry> registry) {
        return new ConsumerMetrics(registry);
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
    @ConditionalOnClass(name = "org.springframework.web.filter.OncePerRequestFilter")
    static class WebhookLogging {

        @Bean
        FilterRegistrationBean<WebhookMdcFilter> webhookMdcFilter() {
            FilterRegistrationBean<WebhookMdcFilter> registration = new FilterRegistrationBean<>(new WebhookMdcFilter());
            registration.addUrlPatterns("/webhooks/*", "/contact", "/contact/*");
            registration.setOrder(Ordered.HIGHEST_PRECEDENCE + 10);
            return registration;
        }
    }
}
