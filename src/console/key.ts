/**
 * The API key the user typed, kept in sessionStorage: it lives as long as the tab, is never
 * shared with other tabs, and is gone when the tab closes (docs/console.md).
 */
const STORAGE_NAME = 'agentbox.apiKey';

export const savedKey = (): string | null => sessionStorage.getItem(STORAGE_NAME);
export const saveKey = (key: string): void => sessionStorage.setItem(STORAGE_NAME, key);
export const forgetKey = (): void => sessionStorage.removeItem(STORAGE_NAME);
