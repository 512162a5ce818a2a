package io.switchboard.channel.webform;

import io.switchboard.contract.Channel;
import io.switchboard.contract.Topics;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.PropertySource;
import org.springframework.kafka.config.TopicBuilder;
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
    KafkaAdmin.NewTopics webformTopics() {
        return new KafkaAdmin.NewTopics(TopicBuilder.name(Topics.inbound(Channel.WEBFORM)).partitions(6)
                .config("max.message.bytes", String.valueOf(WebformPublisher.MAX_RECORD_BYTES)).build());
    }
}
