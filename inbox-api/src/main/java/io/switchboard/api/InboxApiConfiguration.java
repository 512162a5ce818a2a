package io.switchboard.api;

import io.switchboard.api.sla.SlaTargets;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.PropertySource;

@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(SlaTargets.class)
@PropertySource("classpath:switchboard-inbox-api.properties")
class InboxApiConfiguration {
}
