package io.switchboard.api.files;

import jakarta.servlet.MultipartConfigElement;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(FilesProperties.class)
class FilesConfiguration {

    /** The servlet's multipart limits must let an upload of the allowed size through; the controller checks the exact limit. */
    static final long SERVLET_FILE_LIMIT = 25L * 1024 * 1024;

    /**
     * Raises the servlet's multipart limits to at least 25 MB per file (26 MB per request), keeping
     * any higher limit. Other modules in the same process set their own, lower, limits in
     * properties (the web form's 11 MB); they check their exact limits themselves, so raising the
     * servlet's ceiling leaves them as they are, whichever property file is read first.
     */
    @Bean
    static BeanPostProcessor uploadMultipartLimits() {
        return new BeanPostProcessor() {
            @Override
            public Object postProcessAfterInitialization(Object bean, String beanName) {
                if (bean instanceof MultipartConfigElement m) {
                    return new MultipartConfigElement(m.getLocation(), atLeast(m.getMaxFileSize(), SERVLET_FILE_LIMIT),
                            atLeast(m.getMaxRequestSize(), SERVLET_FILE_LIMIT + 1024 * 1024), m.getFileSizeThreshold());
                }
                return bean;
            }
        };
    }

    static long atLeast(long current, long floor) {
        return current < 0 ? current : Math.max(current, floor); // -1: unlimited already
    }
}
