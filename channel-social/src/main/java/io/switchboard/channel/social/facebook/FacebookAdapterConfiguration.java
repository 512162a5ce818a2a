package io.switchboard.channel.social.facebook;

import io.switchboard.adapter.support.OutboundRecordMdc;
import io.switchboard.adapter.support.SharedTopics;
import io.switchboard.contract.Channel;
import io.switchboard.contract.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.PropertySource;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.util.backoff.ExponentialBackOff;
import org.springframework.web.client.RestClient;

import java.util.Map;

@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(FacebookProperties.class)
@PropertySource("classpath:switchboard-facebook.properties")
class FacebookAdapterConfiguration {

    @Bean
    FacebookClient facebookClient() {
        return new FacebookClient(RestClient.builder());
    }

    /** The adapter runs without the router too, so it declares the topics it writes and reads. */
    @Bean
    KafkaAdmin.NewTopics facebookTopics(SharedTopics topics) {
        return topics.declare(Topics.inbound(Channel.FACEBOOK), Topics.outbound(Channel.FACEBOOK), Topics.DELIVERY_REPORTS);
    }

    /** One command at a time, offset committed after each report is durable, so a crash resends at most one reply. */
    @Bean
    ConcurrentKafkaListenerContainerFactory<String, byte[]> facebookListenerFactory(KafkaProperties kafka) {
        Map<String, Object> config = kafka.buildConsumerProperties();
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 600_000);
        ConcurrentKafkaListenerContainerFactory<String, byte[]> factory = new ConcurrentKafkaListenerContainerFactory<>();
        factory.setConsumerFactory(new DefaultKafkaConsumerFactory<>(config));
        factory.getContainerProperties().setAckMode(ContainerProperties.AckMode.RECORD);
        // listener observation: continues the trace of the command's traceparent header (Boot's property does not reach own factories)
        factory.getContainerProperties().setObservationEnabled(true);
        factory.setRecordInterceptor(new OutboundRecordMdc<>());
        ExponentialBackOff backOff = new ExponentialBackOff(500, 2.0);
        backOff.setMaxInterval(30_000);
        factory.setCommonErrorHandler(new DefaultErrorHandler(backOff));
        return factory;
    }
}
