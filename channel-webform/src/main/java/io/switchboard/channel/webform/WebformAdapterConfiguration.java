package io.switchboard.channel.webform;

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
import org.springframework.kafka.core.KafkaAdmin;


@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(WebformProperties.class)
@PropertySource("classpath:switchboard-webform.properties")
class WebformAdapterConfiguration {

    /**
     * The adapter runs without the router too, so it declares its topic; a submission carries its
     * attachments inline, so the topic takes records up to {@link WebformPublisher#MAX_RECORD_BYTES}.
     */
    @Bean
    KafkaAdmin.NewTopics webformTopics(SharedTopics topics) {
        return topics.declare(Topics.inbound(Channel.WEBFORM), Topics.outbound(Channel.WEBFORM), Topics.outbound(Channel.EMAIL));
    }

    /** One reply at a time, offset committed after it is handed to the email channel. */
    @Bean
    ConcurrentKafkaListenerContainerFactory<String, byte[]> webformListenerFactory(KafkaProperties kafka) {
        return AdapterListeners.outboundCommands(kafka);
    }
}
