package io.switchboard.adapter.support;

import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.kafka.config.AbstractKafkaListenerContainerFactory;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.core.MicrometerConsumerListener;

/**
 * Consumer metrics (among them {@code kafka_consumer_fetch_manager_records_lag_max}, the consumer lag
 * on the dashboard) for every listener container factory of the process: each adapter builds its own
 * factory for its outbound sender, and the router its batch factory, which Boot's Kafka metrics
 * customizer never sees (it reaches only Boot's own consumer factory, which inbox-api's live feed uses).
 * A factory whose consumer factory already has a {@link MicrometerConsumerListener} is left alone, so
 * no consumer is bound twice.
 */
class ConsumerMetrics implements BeanPostProcessor {

    private final ObjectProvider<MeterRegistry> registry;

    ConsumerMetrics(ObjectProvider<MeterRegistry> registry) {
        this.registry = registry;
    }

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) {
        if (bean instanceof AbstractKafkaListenerContainerFactory<?, ?, ?> factory
                && factory.getConsumerFactory() instanceof DefaultKafkaConsumerFactory<?, ?> consumers) {
            instrument(consumers, registry.getIfAvailable());
        }
        return bean;
    }

    /** Adds the Micrometer listener to a consumer factory unless it has one. */
    static <K, V> void instrument(DefaultKafkaConsumerFactory<K, V> consumers, MeterRegistry meters) {
        if (meters != null && consumers.getListeners().stream().noneMatch(MicrometerConsumerListener.class::isInstance)) {
            consumers.addListener(new MicrometerConsumerListener<>(meters));
        }
    }
}
