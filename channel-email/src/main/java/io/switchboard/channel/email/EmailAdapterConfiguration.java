package io.switchboard.channel.email;

import io.switchboard.adapter.support.AdapterListeners;
import io.switchboard.adapter.support.SharedTopics;
import io.switchboard.contract.Channel;
import io.switchboard.contract.Topics;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.PropertySource;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.config.TopicBuilder;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.kafka.core.KafkaTemplate;


@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties({EmailProperties.class, EmailPayloadStoreProperties.class})
@PropertySource("classpath:switchboard-email.properties")
class EmailAdapterConfiguration {

    @Bean
    EmailClient emailClient() {
        return new EmailClient();
    }

    /**
     * The document store for messages over max-message-bytes: EMAIL_PAYLOAD_STORE_URI, else the product's
     * store (spring.mongodb.uri: SPRING_MONGODB_URI, or the embedded store in standalone), else none.
     */
    @Bean
    EmailPayloadStore emailPayloadStore(EmailPayloadStoreProperties props, EmailProperties email,
                                        org.springframework.core.env.Environment env,
                                        org.springframework.beans.factory.ObjectProvider<EmailPayloadDurability> durability,
                                        org.springframework.beans.factory.ObjectProvider<java.time.Clock> clock) {
        String uri = props.uri().isEmpty() ? env.getProperty("spring.mongodb.uri", "").strip() : props.uri();
        if (uri.isEmpty() || uri.equalsIgnoreCase("off")) {
            org.slf4j.LoggerFactory.getLogger(EmailPayloadStore.class).warn(
                    "no payload store configured (EMAIL_PAYLOAD_STORE_URI / SPRING_MONGODB_URI): messages over {} bytes"
                            + " are published in reduced form, their originals stay in the mailbox", email.maxMessageBytes());
            return new EmailPayloadStore();
        }
        return new EmailPayloadStore(uri, props.chunkBytes(), props.timeout(),
                durability.getIfAvailable(() -> () -> { }), clock.getIfAvailable(java.time.Clock::systemUTC));
    }

    @Bean
    EmailCursors emailCursors(KafkaTemplate<String, byte[]> kafka, KafkaProperties kafkaProperties) {
        return new EmailCursors(kafka, kafkaProperties);
    }

    /**
     * The adapter runs without the router too, so it declares the topics it writes and reads. The
     * inbound topic takes whole emails (up to 16 MB per record); the cursor topic is compacted.
     */
    @Bean
    KafkaAdmin.NewTopics emailTopics(SharedTopics topics) {
        return new KafkaAdmin.NewTopics(topics.topic(Topics.inbound(Channel.EMAIL)), topics.topic(Topics.outbound(Channel.EMAIL)),
                topics.topic(Topics.DELIVERY_REPORTS), TopicBuilder.name(EmailCursors.TOPIC).partitions(1).compact().build());
    }

    /** One command at a time, offset committed after each report is durable, so a crash resends at most one reply. */
    @Bean
    ConcurrentKafkaListenerContainerFactory<String, byte[]> emailListenerFactory(KafkaProperties kafka) {
        return AdapterListeners.outboundCommands(kafka);
    }
}
