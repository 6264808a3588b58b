/** How a person answered a confirmation prompt; Ctrl-C at the prompt is told apart so the audit log can say so. */
export type ConfirmAnswer = 'confirmed' | 'declined' | 'interrupted';
